// The Nexmark benchmark's events and their generator (persons, auctions and
// bids of an online auction house), after the reference generator of
// github.com/nexmark/nexmark (nexmark-flink, generator/ and model/).
//
//   sluice::nexmark::Generator gen(sluice::nexmark::GeneratorConfig{});
//   sluice::nexmark::Event e = gen.At(17);          // any event number, any order
//   gen.At(18, &e);                                  // the same, reusing e's strings
//   std::string line = sluice::nexmark::ToLine(e);   // "B|1002|2001|...", see ToLine
//
// At(n) is a pure function of (config, n): every random choice of event n
// comes from a splitmix64 stream seeded with (seed, n). Parallel subtasks can
// split the event numbers between them in any way and together produce exactly
// the events of one sequential run; replaying from a checkpointed index
// reproduces the same events.
//
// What follows the reference:
//   - Mix: event n is a person, an auction or a bid by n % 50 against the
//     cumulative proportions 1 : 3 : 46 (person first, then auction, then bid).
//   - Event time: ts(n) = base_time_ms + (int64)(n * inter_event_delay_us) / 1000
//     with inter_event_delay_us = 1e6 / first_event_rate (same double
//     arithmetic as the reference). One timeline over all event numbers, so
//     event time never decreases with n and nothing is late for a watermark.
//   - Ids: person and auction ids are 1000 + the number of persons/auctions
//     before them (they follow from n alone, as in the reference). Category is
//     10 + uniform [0, 5).
//   - Hot ids: with probability 1 - 1/hot_auction_ratio a bid goes to the
//     "hot" auction (the last auction id rounded down to a multiple of 100),
//     otherwise to a uniform auction among the last num_in_flight_auctions
//     plus 10 not yet created ("lead"). Sellers: 1 - 1/hot_seller_ratio the hot
//     seller (last person id rounded down to a multiple of 100), else a uniform
//     person among the last num_active_people plus 10 lead. Bidders: the same
//     with hot_bidder_ratio, the hot bidder being that multiple of 100 plus 1.
//   - Price: round(10^(6u) * 100), u uniform in [0, 1): 100 .. 100'000'000.
//     Reserve = initial_bid + another price.
//   - Expires: date_time + 1 + uniform [0, max(2h, 1)), h the event-time span
//     (ms) of the next num_in_flight_auctions * 50 / 3 events. At the default
//     10 M events/s h is 0 or 1 ms, so auctions last 1 or 2 ms (as in the
//     reference at that rate); lower --rate for longer auctions.
//   - Strings: item name and description of random length [3, 20) / [3, 100),
//     letters with a space 1 time in 13, trimmed; names, cities and states from
//     the reference's lists; e-mail "xxxxxxx@xxxxx.com" of such strings; credit
//     card "dddd dddd dddd dddd".
//   - Channel and url: half of the bids one of 4 hot channels (Google,
//     Facebook, Baidu, Apple) with its own url, the others "channel-N", N
//     uniform in [0, 10000), with url "https://www.nexmark.com/xxx/xxx/xxx/
//     item.htm?query=1" (parts of 3 or 4 letters, '_' 1 in 13), 9 channels in
//     10 with "&channel_id=<abs(bit-reversed N as int32)>" appended (so
//     channel 1 gets -2147483648, as Java's Math.abs gives). The urls of a
//     channel are fixed per seed (the reference caches them per process).
//   - Extra: random letters so that the fixed fields plus extra average
//     avg_*_byte_size (the reference's size accounting: 8 per number plus the
//     string lengths; length uniform in +-20% around the remainder).
//   - Quirk kept (bidder_double_offset, on by default): the reference adds
//     FIRST_PERSON_ID (1000) to the bidder twice, so bidder ids are 2000 + a
//     person number and do not join with person ids. No query joins bidders
//     with persons; set it false for bidders that are person ids.
// What differs: the reference's random generators are unseeded, so no value
// but event types and times matches it; here everything is seeded (the same
// rules, other random draws; the per-character odds are rounded to bytes, e.g.
// a space 20/256 instead of 1/13). The reference's per-split timelines
// (numEventGenerators) are replaced by the one global timeline. Event n here
// is event id n there (first event id 0).
//
// Strings never contain '|', '\n' or '\t'. Only the member of Event that
// matches its type is meaningful; At(n, &e) and deserialization into a reused
// Event leave the other two untouched, and operator== ignores them.
#ifndef SLUICE_NEXMARK_H_
#define SLUICE_NEXMARK_H_

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/serialization.h"

namespace sluice::nexmark {

inline constexpr int64_t kFirstPersonId = 1000;
inline constexpr int64_t kFirstAuctionId = 1000;
inline constexpr int64_t kFirstCategoryId = 10;
inline constexpr int kNumCategories = 5;

struct Person {
  int64_t id = 0;
  std::string name;
  std::string email_address;
  std::string credit_card;
  std::string city;
  std::string state;
  int64_t date_time = 0;  // ms since the epoch
  std::string extra;
  bool operator==(const Person&) const = default;
};
SLUICE_SERIALIZABLE(Person, id, name, email_address, credit_card, city, state, date_time, extra);

struct Auction {
  int64_t id = 0;
  std::string item_name;
  std::string description;
  int64_t initial_bid = 0;
  int64_t reserve = 0;
  int64_t date_time = 0;  // ms since the epoch
  int64_t expires = 0;    // ms since the epoch
  int64_t seller = 0;
  int64_t category = 0;
  std::string extra;
  bool operator==(const Auction&) const = default;
};
SLUICE_SERIALIZABLE(Auction, id, item_name, description, initial_bid, reserve, date_time, expires,
                    seller, category, extra);

struct Bid {
  int64_t auction = 0;
  int64_t bidder = 0;
  int64_t price = 0;
  std::string channel;
  std::string url;
  int64_t date_time = 0;  // ms since the epoch
  std::string extra;
  bool operator==(const Bid&) const = default;
};
SLUICE_SERIALIZABLE(Bid, auction, bidder, price, channel, url, date_time, extra);

enum class EventType : int32_t { kPerson = 0, kAuction = 1, kBid = 2 };

// One of the three; only the member matching `type` is filled.
struct Event {
  EventType type = EventType::kPerson;
  Person person;
  Auction auction;
  Bid bid;

  int64_t timestamp() const {
    switch (type) {
      case EventType::kPerson:
        return person.date_time;
      case EventType::kAuction:
        return auction.date_time;
      case EventType::kBid:
        return bid.date_time;
    }
    return 0;
  }
  // Compares the type and the member it selects.
  bool operator==(const Event& o) const {
    if (type != o.type) return false;
    switch (type) {
      case EventType::kPerson:
        return person == o.person;
      case EventType::kAuction:
        return auction == o.auction;
      case EventType::kBid:
        return bid == o.bid;
    }
    return false;
  }
};

// Event is serialized as its type and the one member it selects (not with
// SLUICE_SERIALIZABLE, which would write all three).
[[maybe_unused]] inline void SluiceSerialize(const Event& e, ::sluice::Writer& w) {
  ::sluice::Serializer<EventType>::Write(e.type, w);
  switch (e.type) {
    case EventType::kPerson:
      SluiceSerialize(e.person, w);
      break;
    case EventType::kAuction:
      SluiceSerialize(e.auction, w);
      break;
    case EventType::kBid:
      SluiceSerialize(e.bid, w);
      break;
  }
}
[[maybe_unused]] inline void SluiceDeserialize(Event& e, ::sluice::Reader& r) {
  e.type = ::sluice::Serializer<EventType>::Read(r);
  switch (e.type) {
    case EventType::kPerson:
      SluiceDeserialize(e.person, r);
      return;
    case EventType::kAuction:
      SluiceDeserialize(e.auction, r);
      return;
    case EventType::kBid:
      SluiceDeserialize(e.bid, r);
      return;
  }
  throw std::runtime_error("nexmark: bad event type in record");
}

struct GeneratorConfig {
  // How many events a run has (event numbers 0 .. events-1); At() itself
  // accepts any n >= 0.
  int64_t events = 1'000'000;
  // Events per second of event time, over all generators together.
  double first_event_rate = 10'000'000;
  // Event time of event 0, ms since the epoch (2023-11-14T22:13:20Z; a
  // multiple of 10 s). Fixed, not the wall clock, so runs are reproducible.
  int64_t base_time_ms = 1'700'000'000'000;
  uint64_t seed = 42;
  int person_proportion = 1;
  int auction_proportion = 3;
  int bid_proportion = 46;
  int hot_auction_ratio = 2;
  int hot_seller_ratio = 4;
  int hot_bidder_ratio = 4;
  int num_active_people = 1000;
  int num_in_flight_auctions = 100;
  int avg_person_byte_size = 200;
  int avg_auction_byte_size = 500;
  int avg_bid_byte_size = 100;
  // The reference adds FIRST_PERSON_ID to bidders twice (see the top).
  bool bidder_double_offset = true;

  double inter_event_delay_us() const { return 1'000'000.0 / first_event_rate; }
  int total_proportion() const { return person_proportion + auction_proportion + bid_proportion; }
};

namespace detail {

__extension__ typedef unsigned __int128 Uint128;

inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// splitmix64.
class Random {
 public:
  explicit Random(uint64_t state) : state_(state) {}
  uint64_t Next() { return Mix64(state_ += 0x9E3779B97F4A7C15ull); }
  // Uniform in [0, n), n >= 1.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((Uint128{Next()} * n) >> 64); }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Below(static_cast<uint64_t>(n))); }
  int Below(int n) { return static_cast<int>(Below(static_cast<uint64_t>(n))); }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// Eight letters from the eight bytes b of a random word: 'a' + b * 26 / 256
// (each letter 9 or 10 times in 256), computed in 16-bit lanes.
inline uint64_t EightLetters(uint64_t r) {
  constexpr uint64_t kLanes = 0x00FF00FF00FF00FFull;
  uint64_t even = (((r & kLanes) * 26) >> 8) & kLanes;
  uint64_t odd = ((((r >> 8) & kLanes) * 26) >> 8) & kLanes;
  return (even | (odd << 8)) + 0x6161616161616161ull;  // + 'a' in every byte
}

// Appends `length` random letters.
inline void AppendLetters(Random& rng, size_t length, std::string* out) {
  size_t at = out->size();
  out->resize(at + length);
  char* p = out->data() + at;
  Random local = rng;  // in a register: the stores below may alias rng
  for (; length >= 8; length -= 8, p += 8) {
    uint64_t w = EightLetters(local.Next());
    std::memcpy(p, &w, 8);
  }
  if (length > 0) {
    uint64_t w = EightLetters(local.Next());
    std::memcpy(p, &w, length);  // byte order only picks which letters
  }
  rng = local;
}

// Appends a string of random length [3, max_length): letters, and `special`
// 1 time in 13 (a byte below 20 of 256); trimmed at both ends when special is
// a space (the reference trims).
inline void AppendString(Random& rng, int max_length, char special, std::string* out) {
  int length = 3 + rng.Below(max_length - 3);
  size_t start = out->size();
  uint64_t r = 0;
  for (int i = 0; i < length; ++i) {
    if ((i & 7) == 0) r = rng.Next();
    unsigned b = static_cast<unsigned>(r & 0xff);
    r >>= 8;
    out->push_back(b < 20 ? special : static_cast<char>('a' + (b - 20) * 26 / 236));
  }
  if (special == ' ') {
    size_t end = out->size();
    while (end > start && (*out)[end - 1] == ' ') --end;
    out->resize(end);
    size_t first = start;
    while (first < end && (*out)[first] == ' ') ++first;
    out->erase(start, first - start);
  }
}

// The reference's nextExtra: letters so that current_size + length averages
// desired_average (uniform within +-20% of the remainder).
inline void AssignExtra(Random& rng, int current_size, int desired_average, std::string* out) {
  out->clear();
  if (current_size > desired_average) return;
  int remainder = desired_average - current_size;
  int delta = static_cast<int>(std::floor(remainder * 0.2 + 0.5));  // Java Math.round
  int length = remainder - delta + (delta == 0 ? 0 : rng.Below(2 * delta));
  AppendLetters(rng, static_cast<size_t>(length), out);
}

inline void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

inline constexpr std::string_view kStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
inline constexpr std::string_view kCities[] = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
inline constexpr std::string_view kFirstNames[] = {
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
inline constexpr std::string_view kLastNames[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                                  "Walton", "Smith",  "Jones",   "Noris"};
inline constexpr std::string_view kHotChannels[] = {"Google", "Facebook", "Baidu", "Apple"};
inline constexpr int kNumChannels = 10'000;
inline constexpr int64_t kHotBatch = 100;  // hot ids are multiples of this (HOT_*_RATIO there)
inline constexpr int64_t kIdLead = 10;     // ids not yet created that may be picked

template <size_t N>
constexpr int Count(const std::string_view (&)[N]) {
  return static_cast<int>(N);
}

// Channel names and urls, fixed per seed; shared by copies of a Generator.
struct ChannelTable {
  std::string pool;
  struct Span {
    uint32_t offset, length;
  };
  std::vector<Span> name, url;  // kNumChannels entries, then the 4 hot urls in url
  std::string_view Get(Span s) const { return std::string_view(pool).substr(s.offset, s.length); }
};

inline void AppendBaseUrl(Random& rng, std::string* out) {
  out->append("https://www.nexmark.com/");
  AppendString(rng, 5, '_', out);
  out->push_back('/');
  AppendString(rng, 5, '_', out);
  out->push_back('/');
  AppendString(rng, 5, '_', out);
  out->append("/item.htm?query=1");
}

inline std::shared_ptr<const ChannelTable> MakeChannelTable(uint64_t seed) {
  auto t = std::make_shared<ChannelTable>();
  t->pool.reserve(kNumChannels * 80);
  auto add = [&](std::vector<ChannelTable::Span>& to, size_t from) {
    to.push_back({static_cast<uint32_t>(from), static_cast<uint32_t>(t->pool.size() - from)});
  };
  for (int n = 0; n < kNumChannels; ++n) {
    size_t from = t->pool.size();
    t->pool.append("channel-");
    AppendInt(n, &t->pool);
    add(t->name, from);
    Random rng(Mix64(seed ^ (0x6368616e6e656c00ull + static_cast<uint64_t>(n))));
    from = t->pool.size();
    AppendBaseUrl(rng, &t->pool);
    if (rng.Below(10) > 0) {
      // Java: Math.abs(Integer.reverse(n)); abs(INT_MIN) stays INT_MIN.
      uint32_t x = static_cast<uint32_t>(n), rev = 0;
      for (int i = 0; i < 32; ++i, x >>= 1) rev = (rev << 1) | (x & 1);
      int64_t v = static_cast<int32_t>(rev);
      if (v < 0 && v != INT32_MIN) v = -v;
      t->pool.append("&channel_id=");
      AppendInt(v, &t->pool);
    }
    add(t->url, from);
  }
  for (uint64_t i = 0; i < 4; ++i) {
    Random rng(Mix64(seed ^ (0x686f7475726c0000ull + i)));
    size_t from = t->pool.size();
    AppendBaseUrl(rng, &t->pool);
    add(t->url, from);
  }
  return t;
}

}  // namespace detail

// Generates event n for any n. Construction builds the channel table (about
// 1 ms); copies share it. At() is const and safe to call from several threads.
class Generator {
 public:
  explicit Generator(GeneratorConfig config)
      : config_(config),
        delay_us_(config.inter_event_delay_us()),
        total_(config.total_proportion()),
        seed_mix_(detail::Mix64(config.seed ^ 0x4e65786d61726b21ull)),
        channels_(detail::MakeChannelTable(config.seed)) {
    if (config.person_proportion < 1 || config.auction_proportion < 1 || config.bid_proportion < 0)
      throw std::invalid_argument("nexmark: person and auction proportions must be >= 1");
    if (config.hot_auction_ratio < 1 || config.hot_seller_ratio < 1 ||
        config.hot_bidder_ratio < 1 || config.num_active_people < 1 ||
        config.num_in_flight_auctions < 1)
      throw std::invalid_argument("nexmark: hot ratios and active counts must be >= 1");
    if (!(config.first_event_rate > 0))
      throw std::invalid_argument("nexmark: first_event_rate must be > 0");
  }

  const GeneratorConfig& config() const { return config_; }

  // Event n (n >= 0).
  Event At(int64_t n) const {
    Event e;
    At(n, &e);
    return e;
  }
  // Event n into *out, reusing the capacity of its strings; the members of
  // *out that do not match the new type are left as they were.
  void At(int64_t n, Event* out) const {
    detail::Random rng(detail::Mix64(seed_mix_ + static_cast<uint64_t>(n)));
    Position at{n, Timestamp(n), n / total_, n % total_};
    if (at.offset < config_.person_proportion) {
      out->type = EventType::kPerson;
      MakePerson(at, rng, &out->person);
    } else if (at.offset < config_.person_proportion + config_.auction_proportion) {
      out->type = EventType::kAuction;
      MakeAuction(at, rng, &out->auction);
    } else {
      out->type = EventType::kBid;
      MakeBid(at, rng, &out->bid);
    }
  }

  // Cheap parts of event n, without generating it.
  EventType TypeOf(int64_t n) const {
    int64_t rem = n % total_;
    if (rem < config_.person_proportion) return EventType::kPerson;
    if (rem < config_.person_proportion + config_.auction_proportion) return EventType::kAuction;
    return EventType::kBid;
  }
  int64_t Timestamp(int64_t n) const {
    return config_.base_time_ms + static_cast<int64_t>(static_cast<double>(n) * delay_us_) / 1000;
  }
  // Base-0 id of the last person / auction at or before event n (the one
  // created by n if it is a person / auction); -1 if there is none yet.
  int64_t LastBase0PersonId(int64_t n) const { return LastPerson(n / total_, n % total_); }
  int64_t LastBase0AuctionId(int64_t n) const { return LastAuction(n / total_, n % total_); }

 private:
  // Event n as epoch * total_proportion + offset (one division per event).
  struct Position {
    int64_t n, ts, epoch, offset;
  };
  int64_t LastPerson(int64_t epoch, int64_t offset) const {
    if (offset >= config_.person_proportion) offset = config_.person_proportion - 1;
    return epoch * config_.person_proportion + offset;
  }
  int64_t LastAuction(int64_t epoch, int64_t offset) const {
    if (offset < config_.person_proportion) {
      --epoch;
      offset = config_.auction_proportion - 1;
    } else if (offset >= config_.person_proportion + config_.auction_proportion) {
      offset = config_.auction_proportion - 1;
    } else {
      offset -= config_.person_proportion;
    }
    return epoch * config_.auction_proportion + offset;
  }
  int64_t LastPerson(const Position& at) const { return LastPerson(at.epoch, at.offset); }
  int64_t LastAuction(const Position& at) const { return LastAuction(at.epoch, at.offset); }

  int64_t NextBase0PersonId(const Position& at, detail::Random& rng) const {
    int64_t num_people = LastPerson(at) + 1;
    int64_t active = std::min<int64_t>(num_people, config_.num_active_people);
    return num_people - active + rng.Below(active + detail::kIdLead);
  }
  int64_t NextBase0AuctionId(const Position& at, detail::Random& rng) const {
    int64_t max_auction = LastAuction(at);
    int64_t min_auction = std::max<int64_t>(max_auction - config_.num_in_flight_auctions, 0);
    return min_auction + rng.Below(max_auction - min_auction + 1 + detail::kIdLead);
  }
  static int64_t NextPrice(detail::Random& rng) {
    // 10^(6u) * 100 = exp(6u ln 10) * 100
    return std::llround(std::exp(rng.Uniform() * 13.815510557964274) * 100.0);
  }

  void MakePerson(const Position& at, detail::Random& rng, Person* p) const {
    using namespace detail;
    p->id = LastPerson(at) + kFirstPersonId;
    p->name.assign(kFirstNames[rng.Below(Count(kFirstNames))]);
    p->name.push_back(' ');
    p->name.append(kLastNames[rng.Below(Count(kLastNames))]);
    p->email_address.clear();
    AppendString(rng, 7, ' ', &p->email_address);
    p->email_address.push_back('@');
    AppendString(rng, 5, ' ', &p->email_address);
    p->email_address.append(".com");
    p->credit_card.assign("0000 0000 0000 0000");
    for (int g = 0; g < 4; ++g) {
      int v = rng.Below(10000);
      for (int d = 3; d >= 0; --d, v /= 10)
        p->credit_card[g * 5 + d] = static_cast<char>('0' + v % 10);
    }
    p->city.assign(kCities[rng.Below(Count(kCities))]);
    p->state.assign(kStates[rng.Below(Count(kStates))]);
    p->date_time = at.ts;
    int size = 8 + static_cast<int>(p->name.size() + p->email_address.size() +
                                    p->credit_card.size() + p->city.size() + p->state.size());
    AssignExtra(rng, size, config_.avg_person_byte_size, &p->extra);
  }

  void MakeAuction(const Position& at, detail::Random& rng, Auction* a) const {
    using namespace detail;
    a->id = LastAuction(at) + kFirstAuctionId;
    int64_t seller;
    if (rng.Below(config_.hot_seller_ratio) > 0) {
      seller = (LastPerson(at) / kHotBatch) * kHotBatch;
    } else {
      seller = NextBase0PersonId(at, rng);
    }
    a->seller = seller + kFirstPersonId;
    a->category = kFirstCategoryId + rng.Below(kNumCategories);
    a->initial_bid = NextPrice(rng);
    // The reference's nextAuctionLengthMs.
    int64_t events_for_auctions = (static_cast<int64_t>(config_.num_in_flight_auctions) * total_) /
                                  config_.auction_proportion;
    int64_t horizon_ms = Timestamp(at.n + events_for_auctions) - at.ts;
    a->expires = at.ts + 1 + rng.Below(std::max<int64_t>(horizon_ms * 2, 1));
    a->item_name.clear();
    AppendString(rng, 20, ' ', &a->item_name);
    a->description.clear();
    AppendString(rng, 100, ' ', &a->description);
    a->reserve = a->initial_bid + NextPrice(rng);
    a->date_time = at.ts;
    int size = 8 + static_cast<int>(a->item_name.size() + a->description.size()) + 8 * 5;
    AssignExtra(rng, size, config_.avg_auction_byte_size, &a->extra);
  }

  void MakeBid(const Position& at, detail::Random& rng, Bid* b) const {
    using namespace detail;
    int64_t auction;
    if (rng.Below(config_.hot_auction_ratio) > 0) {
      auction = (LastAuction(at) / kHotBatch) * kHotBatch;
    } else {
      auction = NextBase0AuctionId(at, rng);
    }
    b->auction = auction + kFirstAuctionId;
    int64_t bidder;
    if (rng.Below(config_.hot_bidder_ratio) > 0) {
      bidder = (LastPerson(at) / kHotBatch) * kHotBatch + 1;
    } else {
      bidder = NextBase0PersonId(at, rng);
    }
    b->bidder = bidder + kFirstPersonId + (config_.bidder_double_offset ? kFirstPersonId : 0);
    b->price = NextPrice(rng);
    const ChannelTable& t = *channels_;
    if (rng.Below(2) > 0) {
      int i = rng.Below(4);
      b->channel.assign(kHotChannels[i]);
      b->url.assign(t.Get(t.url[kNumChannels + i]));
    } else {
      int c = rng.Below(kNumChannels);
      b->channel.assign(t.Get(t.name[c]));
      b->url.assign(t.Get(t.url[c]));
    }
    b->date_time = at.ts;
    AssignExtra(rng, 8 * 4, config_.avg_bid_byte_size, &b->extra);
  }

  GeneratorConfig config_;
  double delay_us_;
  int64_t total_;
  uint64_t seed_mix_;
  std::shared_ptr<const detail::ChannelTable> channels_;
};

// One line per event (or per Person / Auction / Bid), fields separated by
// '|', no newline:
//   P|id|name|email_address|credit_card|city|state|date_time|extra
//   A|id|item_name|description|initial_bid|reserve|date_time|expires|seller|category|extra
//   B|auction|bidder|price|channel|url|date_time|extra
// Numbers in decimal, times in ms since the epoch. Generated strings never
// hold '|' or '\n', so the line splits on '|' into exactly 9 / 11 / 8 fields.
namespace detail {
inline void AppendField(const std::string& s, std::string* out) {
  out->push_back('|');
  out->append(s);
}
inline void AppendField(int64_t v, std::string* out) {
  out->push_back('|');
  AppendInt(v, out);
}
}  // namespace detail

inline void AppendLine(const Person& p, std::string* out) {
  out->push_back('P');
  detail::AppendField(p.id, out);
  for (const std::string* s : {&p.name, &p.email_address, &p.credit_card, &p.city, &p.state})
    detail::AppendField(*s, out);
  detail::AppendField(p.date_time, out);
  detail::AppendField(p.extra, out);
}
inline void AppendLine(const Auction& a, std::string* out) {
  out->push_back('A');
  detail::AppendField(a.id, out);
  detail::AppendField(a.item_name, out);
  detail::AppendField(a.description, out);
  for (int64_t v : {a.initial_bid, a.reserve, a.date_time, a.expires, a.seller, a.category})
    detail::AppendField(v, out);
  detail::AppendField(a.extra, out);
}
inline void AppendLine(const Bid& b, std::string* out) {
  out->push_back('B');
  for (int64_t v : {b.auction, b.bidder, b.price}) detail::AppendField(v, out);
  detail::AppendField(b.channel, out);
  detail::AppendField(b.url, out);
  detail::AppendField(b.date_time, out);
  detail::AppendField(b.extra, out);
}
inline void AppendLine(const Event& e, std::string* out) {
  switch (e.type) {
    case EventType::kPerson:
      return AppendLine(e.person, out);
    case EventType::kAuction:
      return AppendLine(e.auction, out);
    case EventType::kBid:
      return AppendLine(e.bid, out);
  }
}

inline std::string ToLine(const Event& e) {
  std::string out;
  AppendLine(e, &out);
  return out;
}
inline std::string ToLine(const Person& p) {
  std::string out;
  AppendLine(p, &out);
  return out;
}
inline std::string ToLine(const Auction& a) {
  std::string out;
  AppendLine(a, &out);
  return out;
}
inline std::string ToLine(const Bid& b) {
  std::string out;
  AppendLine(b, &out);
  return out;
}

// Records print as their line (so Print() and WriteAsText() sinks take them).
inline std::ostream& operator<<(std::ostream& os, const Event& e) { return os << ToLine(e); }
inline std::ostream& operator<<(std::ostream& os, const Person& p) { return os << ToLine(p); }
inline std::ostream& operator<<(std::ostream& os, const Auction& a) { return os << ToLine(a); }
inline std::ostream& operator<<(std::ostream& os, const Bid& b) { return os << ToLine(b); }

// Parses a ToLine line (without its newline) into *out; false if malformed.
inline bool FromLine(std::string_view line, Event* out) {
  std::string_view f[11];
  size_t count = 0;
  for (;;) {
    if (count == 11) return false;  // more fields than any type has
    size_t bar = line.find('|');
    f[count++] = line.substr(0, bar);
    if (bar == std::string_view::npos) break;
    line.remove_prefix(bar + 1);
  }
  bool ok = true;
  auto num = [&ok](std::string_view s) {
    int64_t v = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size()) ok = false;
    return v;
  };
  auto str = [](std::string_view s, std::string* to) { to->assign(s.data(), s.size()); };
  if (f[0] == "P" && count == 9) {
    Person& p = out->person;
    out->type = EventType::kPerson;
    p.id = num(f[1]);
    str(f[2], &p.name);
    str(f[3], &p.email_address);
    str(f[4], &p.credit_card);
    str(f[5], &p.city);
    str(f[6], &p.state);
    p.date_time = num(f[7]);
    str(f[8], &p.extra);
  } else if (f[0] == "A" && count == 11) {
    Auction& a = out->auction;
    out->type = EventType::kAuction;
    a.id = num(f[1]);
    str(f[2], &a.item_name);
    str(f[3], &a.description);
    a.initial_bid = num(f[4]);
    a.reserve = num(f[5]);
    a.date_time = num(f[6]);
    a.expires = num(f[7]);
    a.seller = num(f[8]);
    a.category = num(f[9]);
    str(f[10], &a.extra);
  } else if (f[0] == "B" && count == 8) {
    Bid& b = out->bid;
    out->type = EventType::kBid;
    b.auction = num(f[1]);
    b.bidder = num(f[2]);
    b.price = num(f[3]);
    str(f[4], &b.channel);
    str(f[5], &b.url);
    b.date_time = num(f[6]);
    str(f[7], &b.extra);
  } else {
    return false;
  }
  return ok;
}

}  // namespace sluice::nexmark

#endif  // SLUICE_NEXMARK_H_
