// The Nexmark benchmark's queries q0–q9 and q11 on the Nexmark source
// (sluice/nexmark_source.h), with the reference SQL's semantics as
// tests/nexmark/README.md states them. Each job writes its result lines
// (fields joined by ',') with --output <dir>, or discards them (the
// benchmark's blackhole sink) without.
//
//   sluice run -c NexmarkQ5 libsluice_examples.so -- --events 1000000 [--rate 10000000]
//       [--seed 42] [--output <dir>]
//
// Queries whose SQL result updates (q4, q6, q9) emit every update; the last
// line per key is the result.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/nexmark_source.h"
#include "sluice/parameter_tool.h"
#include "sluice/sluice.h"

namespace {

using sluice::Collector;
using sluice::KeyedContext;
using sluice::TimeWindow;
using namespace sluice::nexmark;  // NOLINT: the benchmark's vocabulary

struct Query {
  GeneratorConfig config;
  std::string output;
};

Query Parse(const std::vector<std::string>& args) {
  auto flags = sluice::ParameterTool::FromArgs(args);
  Query q;
  q.config.events = static_cast<int64_t>(flags.GetDouble("events", 1'000'000));
  q.config.first_event_rate = flags.GetDouble("rate", q.config.first_event_rate);
  q.config.seed = static_cast<uint64_t>(flags.GetDouble("seed", 42));
  q.output = flags.Get("output", "");
  return q;
}

std::string Join(std::initializer_list<std::string> fields) {
  std::string line;
  for (const std::string& f : fields) {
    if (!line.empty()) line += ',';
    line += f;
  }
  return line;
}
std::string S(int64_t v) { return std::to_string(v); }

// The result lines, into part files or the blackhole.
template <typename T, typename Format>
void Emit(sluice::DataStream<T> result, const std::string& output, Format format) {
  if (output.empty()) {
    result.Discard().Name("blackhole");
  } else {
    result.WriteAsText(output, format).Name("result");
  }
}
void EmitLines(sluice::DataStream<std::string> result, const std::string& output) {
  Emit(result, output, [](const std::string& line) { return line; });
}

int64_t KeyOfPersonOrAuction(const Event& e) {
  return e.type == EventType::kPerson ? e.person.id : e.auction.seller;
}

// --- q3: local item suggestion (a regular join of auctions and persons) --------

class LocalItemSuggestion final : public sluice::KeyedProcessFunction<int64_t, Event, std::string> {
 public:
  void Open(KeyedContext<int64_t>& ctx) override {
    person_ = &ctx.GetState(sluice::ValueStateDescriptor<Person>("person"));
    auctions_ = &ctx.GetState(sluice::ListStateDescriptor<int64_t>("auctions"));
  }
  void ProcessElement(const Event& e, KeyedContext<int64_t>&,
                      Collector<std::string>& out) override {
    if (e.type == EventType::kPerson) {
      for (int64_t auction : auctions_->get()) out.Collect(Row(e.person, auction));
      auctions_->clear();
      person_->update(e.person);
    } else if (auto person = person_->value()) {
      out.Collect(Row(*person, e.auction.id));
    } else {
      auctions_->add(e.auction.id);
    }
  }

 private:
  static std::string Row(const Person& p, int64_t auction) {
    return Join({p.name, p.city, p.state, S(auction)});
  }
  sluice::ValueState<Person>* person_ = nullptr;
  sluice::ListState<int64_t>* auctions_ = nullptr;
};

// --- q4, q6, q9: the winning bid of each auction --------------------------------

struct Offer {  // a bid, as the winner rules need it
  int64_t price = 0;
  int64_t time = 0;
  int64_t bidder = 0;
  bool Beats(const Offer& o) const {
    return std::tie(price, o.time, o.bidder) > std::tie(o.price, time, bidder);
  }
};
SLUICE_SERIALIZABLE(Offer, price, time, bidder);

struct OpenAuction {
  int64_t seller = 0, category = 0, start = 0, expires = 0;
  bool closed = false;
  std::optional<Offer> best;
};
SLUICE_SERIALIZABLE(OpenAuction, seller, category, start, expires, closed, best);

struct Winner {
  int64_t auction = 0, seller = 0, category = 0;
  Offer bid;
};
SLUICE_SERIALIZABLE(Winner, auction, seller, category, bid);

// Per auction: its valid bids (between its start and its expiry, both
// included), also those that came before it; at its expiry in event time,
// the winner: the highest price, then the earliest, then the lowest bidder.
class WinningBids final : public sluice::KeyedProcessFunction<int64_t, Event, Winner> {
 public:
  void Open(KeyedContext<int64_t>& ctx) override {
    auction_ = &ctx.GetState(sluice::ValueStateDescriptor<OpenAuction>("auction"));
    early_ = &ctx.GetState(sluice::ListStateDescriptor<Offer>("early-bids"));
  }
  void ProcessElement(const Event& e, KeyedContext<int64_t>& ctx, Collector<Winner>&) override {
    if (e.type == EventType::kAuction) {
      OpenAuction a{
          e.auction.seller, e.auction.category, e.auction.date_time, e.auction.expires, false,
          std::nullopt};
      for (const Offer& o : early_->get()) Consider(a, o);
      early_->clear();
      auction_->update(a);
      ctx.RegisterEventTimeTimer(a.expires);
      return;
    }
    const Offer offer{e.bid.price, e.bid.date_time, e.bid.bidder};
    std::optional<OpenAuction> a = auction_->value();
    if (!a) {
      early_->add(offer);
    } else if (!a->closed) {
      Consider(*a, offer);
      auction_->update(*a);
    }
  }
  void OnTimer(int64_t, KeyedContext<int64_t>& ctx, Collector<Winner>& out) override {
    std::optional<OpenAuction> a = auction_->value();
    if (!a) return;
    if (a->best) out.Collect(Winner{ctx.current_key(), a->seller, a->category, *a->best});
    auction_->update(OpenAuction{a->seller, a->category, a->start, a->expires, true, {}});
  }

 private:
  static void Consider(OpenAuction& a, const Offer& o) {
    if (o.time < a.start || o.time > a.expires) return;
    if (!a.best || o.Beats(*a.best)) a.best = o;
  }
  sluice::ValueState<OpenAuction>* auction_ = nullptr;
  sluice::ListState<Offer>* early_ = nullptr;
};

sluice::DataStream<Winner> Winners(sluice::DataStream<Event> events) {
  return events.Filter([](const Event& e) { return e.type != EventType::kPerson; })
      .Name("auction-or-bid")
      .KeyBy([](const Event& e) {
        return e.type == EventType::kAuction ? e.auction.id : e.bid.auction;
      })
      .Process<WinningBids>("WinningBids");
}

// q4: the average winning price per category, updated with every winner.
class CategoryAverage final : public sluice::KeyedProcessFunction<int64_t, Winner, std::string> {
 public:
  void Open(KeyedContext<int64_t>& ctx) override {
    sum_ = &ctx.GetState(sluice::ValueStateDescriptor<std::pair<int64_t, int64_t>>("sum"));
  }
  void ProcessElement(const Winner& w, KeyedContext<int64_t>& ctx,
                      Collector<std::string>& out) override {
    auto [sum, count] = sum_->value().value_or(std::pair<int64_t, int64_t>{0, 0});
    sum += w.bid.price;
    ++count;
    sum_->update({sum, count});
    out.Collect(Join({S(ctx.current_key()), S(sum / count)}));
  }

 private:
  sluice::ValueState<std::pair<int64_t, int64_t>>* sum_ = nullptr;
};

// q6: per seller, the average of its last 11 winning prices (the SQL's
// ROWS BETWEEN 10 PRECEDING AND CURRENT ROW), ordered by the winning bid's
// time, then the auction.
class SellerAverage final : public sluice::KeyedProcessFunction<int64_t, Winner, std::string> {
 public:
  static constexpr size_t kRows = 11;
  using Row = std::tuple<int64_t, int64_t, int64_t>;  // (bid time, auction, price)
  void Open(KeyedContext<int64_t>& ctx) override {
    rows_ = &ctx.GetState(sluice::ValueStateDescriptor<std::vector<Row>>("last-rows"));
  }
  void ProcessElement(const Winner& w, KeyedContext<int64_t>& ctx,
                      Collector<std::string>& out) override {
    std::vector<Row> rows = rows_->value().value_or(std::vector<Row>{});
    rows.insert(std::upper_bound(rows.begin(), rows.end(), Row{w.bid.time, w.auction, 0}),
                Row{w.bid.time, w.auction, w.bid.price});
    if (rows.size() > kRows) rows.erase(rows.begin());
    int64_t sum = 0;
    for (const Row& r : rows) sum += std::get<2>(r);
    out.Collect(Join({S(ctx.current_key()), S(sum / static_cast<int64_t>(rows.size()))}));
    rows_->update(std::move(rows));
  }

 private:
  sluice::ValueState<std::vector<Row>>* rows_ = nullptr;
};

// --- q5: hot items ----------------------------------------------------------------

struct AuctionCount {
  int64_t auction = 0, count = 0, start = 0, end = 0;
};
SLUICE_SERIALIZABLE(AuctionCount, auction, count, start, end);

struct CountBids {
  int64_t CreateAccumulator() const { return 0; }
  int64_t Add(const Bid&, int64_t n) const { return n + 1; }
  int64_t GetResult(const int64_t& n) const { return n; }
  int64_t Merge(int64_t a, int64_t b) const { return a + b; }
};

// Per window: every auction whose count is the window's largest. The
// counts of a window carry its last millisecond as their time, so once the
// watermark reaches it, all of them are here.
class HotItems final
    : public sluice::KeyedProcessFunction<std::pair<int64_t, int64_t>, AuctionCount, std::string> {
 public:
  void Open(KeyedContext<std::pair<int64_t, int64_t>>& ctx) override {
    counts_ = &ctx.GetState(sluice::ListStateDescriptor<std::pair<int64_t, int64_t>>("counts"));
  }
  void ProcessElement(const AuctionCount& c, KeyedContext<std::pair<int64_t, int64_t>>& ctx,
                      Collector<std::string>&) override {
    counts_->add({c.auction, c.count});
    ctx.RegisterEventTimeTimer(c.end - 1);
  }
  void OnTimer(int64_t, KeyedContext<std::pair<int64_t, int64_t>>& ctx,
               Collector<std::string>& out) override {
    int64_t max = 0;
    for (const auto& [auction, n] : counts_->get()) max = std::max(max, n);
    const auto [start, end] = ctx.current_key();
    for (const auto& [auction, n] : counts_->get()) {
      if (n >= max) out.Collect(Join({S(auction), S(n), S(start), S(end)}));
    }
    counts_->clear();
  }

 private:
  sluice::ListState<std::pair<int64_t, int64_t>>* counts_ = nullptr;
};

// --- q7: highest bid --------------------------------------------------------------

// Tumbling 10 s windows whose join condition includes their end (the SQL's
// BETWEEN window_end - 10 s AND window_end): a bid at exactly a window's end
// belongs to the next window and may also match this one.
struct TumblingWithEnd {
  static constexpr bool kEventTime = true;
  static constexpr bool kMerging = false;
  int64_t size = 10'000;
  template <typename Add>
  void Assign(int64_t t, Add&& add) const {
    const int64_t start = sluice::WindowStart(t, 0, size);
    add(TimeWindow{start, start + size});
    if (t == start) add(TimeWindow{start - size, start});
  }
};

// The bids of a window at its highest price, computed incrementally: bids at
// the latest time seen are kept apart, since at the window's end they match
// but do not count towards its maximum.
struct HighestBids {
  int64_t max = -1;            // over the bids before `latest`
  std::vector<Bid> at_max;     // those bids at `max`
  int64_t latest = INT64_MIN;  // the latest bid time seen
  std::vector<Bid> at_latest;  // bids at `latest` that may still matter
  void Add(const Bid& b) {
    if (b.date_time > latest) {
      for (const Bid& old : at_latest) AddBefore(old);
      at_latest.clear();
      latest = b.date_time;
    }
    if (b.date_time == latest) {
      if (b.price >= max) at_latest.push_back(b);
    } else {
      AddBefore(b);
    }
  }
  void AddBefore(const Bid& b) {
    if (b.price > max) {
      max = b.price;
      at_max.clear();
      std::erase_if(at_latest, [&](const Bid& l) { return l.price < max; });
    }
    if (b.price == max) at_max.push_back(b);
  }
};
SLUICE_SERIALIZABLE(HighestBids, max, at_max, latest, at_latest);

struct HighestBidsAggregate {
  HighestBids CreateAccumulator() const { return {}; }
  HighestBids Add(const Bid& b, HighestBids acc) const {
    acc.Add(b);
    return acc;
  }
  const HighestBids& GetResult(const HighestBids& acc) const { return acc; }
};

void EmitHighest(const int32_t&, const TimeWindow& w, const HighestBids& acc,
                 Collector<std::string>& out) {
  HighestBids result = acc;
  const bool ends_at_end = result.latest == w.end;
  std::vector<Bid> boundary;
  if (ends_at_end) {
    boundary.swap(result.at_latest);  // at the end: they match, but are not in the window
  } else {
    for (const Bid& b : std::vector<Bid>(result.at_latest)) result.AddBefore(b);
  }
  auto row = [&out](const Bid& b) {
    out.Collect(Join({S(b.auction), S(b.price), S(b.bidder), S(b.date_time)}));
  };
  for (const Bid& b : result.at_max) row(b);
  for (const Bid& b : boundary) {
    if (b.price == result.max) row(b);
  }
}

// --- q8: new users ------------------------------------------------------------------

struct SellerInWindow {
  std::optional<std::string> name;  // the person, if it registered in the window
  bool sold = false;                // it created an auction in the window
};
SLUICE_SERIALIZABLE(SellerInWindow, name, sold);

struct NewUsersAggregate {
  SellerInWindow CreateAccumulator() const { return {}; }
  SellerInWindow Add(const Event& e, SellerInWindow acc) const {
    if (e.type == EventType::kPerson) {
      acc.name = e.person.name;
    } else {
      acc.sold = true;
    }
    return acc;
  }
  const SellerInWindow& GetResult(const SellerInWindow& acc) const { return acc; }
};

}  // namespace

// The benchmark's baseline: the events generated, stamped and discarded.
SLUICE_JOB(NexmarkSource) {
  Query q = Parse(args);
  Emit(Source(env, q.config), q.output, [](const Event& e) { return ToLine(e); });
}

SLUICE_JOB(NexmarkQ0) {
  Query q = Parse(args);
  Emit(Bids(Source(env, q.config)), q.output, [](const Bid& b) {
    return Join({S(b.auction), S(b.bidder), S(b.price), S(b.date_time), b.extra});
  });
}

SLUICE_JOB(NexmarkQ1) {
  Query q = Parse(args);
  // price * 0.908 as DECIMAL(23, 3): in thousandths, exactly.
  auto euros = Bids(Source(env, q.config)).Map([](Bid b) {
    b.price *= 908;
    return b;
  });
  Emit(euros.Name("currency"), q.output, [](const Bid& b) {
    std::string thousandths = S(b.price % 1000);
    std::string euros =
        S(b.price / 1000) + "." + std::string(3 - thousandths.size(), '0') + thousandths;
    return Join({S(b.auction), S(b.bidder), euros, S(b.date_time), b.extra});
  });
}

SLUICE_JOB(NexmarkQ2) {
  Query q = Parse(args);
  auto selected =
      Bids(Source(env, q.config)).Filter([](const Bid& b) { return b.auction % 123 == 0; });
  Emit(selected.Name("selection"), q.output, [](const Bid& b) {
    return Join({S(b.auction), S(b.price)});
  });
}

SLUICE_JOB(NexmarkQ3) {
  Query q = Parse(args);
  auto joined = Source(env, q.config)
                    .Filter([](const Event& e) {
                      if (e.type == EventType::kAuction) return e.auction.category == 10;
                      if (e.type != EventType::kPerson) return false;
                      const std::string& s = e.person.state;
                      return s == "OR" || s == "ID" || s == "CA";
                    })
                    .Name("auction-or-person")
                    .KeyBy(KeyOfPersonOrAuction)
                    .Process<LocalItemSuggestion>("LocalItemSuggestion");
  EmitLines(joined, q.output);
}

SLUICE_JOB(NexmarkQ4) {
  Query q = Parse(args);
  auto averages = Winners(Source(env, q.config))
                      .KeyBy([](const Winner& w) { return w.category; })
                      .Process<CategoryAverage>("CategoryAverage");
  EmitLines(averages, q.output);
}

SLUICE_JOB(NexmarkQ5) {
  Query q = Parse(args);
  auto counts = Bids(Source(env, q.config))
                    .KeyBy([](const Bid& b) { return b.auction; })
                    .Window(sluice::SlidingEventTimeWindows::Of(std::chrono::seconds(10),
                                                                std::chrono::seconds(2)))
                    .Aggregate(CountBids{}, [](const int64_t& auction, const TimeWindow& w,
                                               int64_t n, Collector<AuctionCount>& out) {
                      out.Collect(AuctionCount{auction, n, w.start, w.end});
                    });
  auto hot = counts.KeyBy([](const AuctionCount& c) { return std::make_pair(c.start, c.end); })
                 .Process<HotItems>("HotItems");
  EmitLines(hot, q.output);
}

SLUICE_JOB(NexmarkQ6) {
  Query q = Parse(args);
  auto averages = Winners(Source(env, q.config))
                      .KeyBy([](const Winner& w) { return w.seller; })
                      .Process<SellerAverage>("SellerAverage");
  EmitLines(averages, q.output);
}

SLUICE_JOB(NexmarkQ7) {
  Query q = Parse(args);
  auto highest = Bids(Source(env, q.config))
                     .WindowAll(TumblingWithEnd{})
                     .Aggregate(HighestBidsAggregate{}, EmitHighest);
  EmitLines(highest, q.output);
}

SLUICE_JOB(NexmarkQ8) {
  Query q = Parse(args);
  auto users =
      Source(env, q.config)
          .Filter([](const Event& e) { return e.type != EventType::kBid; })
          .Name("person-or-auction")
          .KeyBy(KeyOfPersonOrAuction)
          .Window(sluice::TumblingEventTimeWindows::Of(std::chrono::seconds(10)))
          .Aggregate(NewUsersAggregate{}, [](const int64_t& id, const TimeWindow& w,
                                             const SellerInWindow& s, Collector<std::string>& out) {
            if (s.name && s.sold) out.Collect(Join({S(id), *s.name, S(w.start)}));
          });
  EmitLines(users, q.output);
}

SLUICE_JOB(NexmarkQ9) {
  Query q = Parse(args);
  Emit(Winners(Source(env, q.config)), q.output, [](const Winner& w) {
    return Join({S(w.auction), S(w.seller), S(w.category), S(w.bid.price), S(w.bid.bidder)});
  });
}

SLUICE_JOB(NexmarkQ11) {
  Query q = Parse(args);
  auto sessions = Bids(Source(env, q.config))
                      .KeyBy([](const Bid& b) { return b.bidder; })
                      .Window(sluice::EventTimeSessionWindows::WithGap(std::chrono::seconds(10)))
                      .Aggregate(CountBids{}, [](const int64_t& bidder, const TimeWindow& w,
                                                 int64_t n, Collector<std::string>& out) {
                        out.Collect(Join({S(bidder), S(n), S(w.start), S(w.end)}));
                      });
  EmitLines(sessions, q.output);
}
