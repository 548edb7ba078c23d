// Fraud detection over a generated stream of card transactions, in event
// time: an account is flagged when a small transaction (< 1.00) is followed
// by a large one (> 500.00) within one minute of the transactions' own
// timestamps (one every 50 ms), however fast or slow they are processed.
// Keyed value state remembers the small one; an event-time timer forgets it
// once the watermark passes its minute.
//
//   sluice run --local -c FraudDetection libsluice_examples.so --
//       [--transactions 100000] [--accounts 1000] [--frauds 25] [--expired 10] [--rate 0]
//       [--output <dir>]
#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>

#include "sluice/parameter_tool.h"
#include "sluice/sluice.h"

struct Transaction {
  int64_t account = 0;
  double amount = 0;
  int64_t sequence = 0;
  int64_t time = 0;  // event time, ms since the epoch
};
SLUICE_SERIALIZABLE(Transaction, account, amount, sequence, time);

struct Alert {
  int64_t account = 0;
  double small_amount = 0;
  double large_amount = 0;
  int64_t sequence = 0;  // of the large transaction
};
SLUICE_SERIALIZABLE(Alert, account, small_amount, large_amount, sequence);

inline std::ostream& operator<<(std::ostream& os, const Alert& a) {
  return os << "ALERT account=" << a.account << " small=" << a.small_amount
            << " large=" << a.large_amount << " at=" << a.sequence;
}

namespace {

constexpr double kSmall = 1.00;
constexpr double kLarge = 500.00;
constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kEveryMs = 50;                           // between two transactions
constexpr int64_t kBaseMs = 1'700'000'000'000;             // the first one's time
constexpr int64_t kExpiredGap = 2 * kMinuteMs / kEveryMs;  // transactions

// A deterministic stream: ordinary amounts stay within [1, 500]; every
// `spacing`-th pair of transactions is a planted fraud (0.42 then 742.00) on
// account (pair index % accounts). Halfway between two frauds, `expired`
// times, a 0.42 whose 742.00 comes two minutes later: no fraud.
struct TransactionGenerator {
  int64_t accounts;
  int64_t spacing;
  int64_t frauds;
  int64_t expired;
  Transaction operator()(int64_t i) const {
    const int64_t time = kBaseMs + i * kEveryMs;
    int64_t pair = i / 2;
    if (pair % spacing == spacing - 1 && pair / spacing < frauds) {
      int64_t account = (pair / spacing) % accounts;
      return Transaction{account, i % 2 == 0 ? 0.42 : 742.00, i, time};
    }
    if (auto account = ExpiredAccount(i)) return Transaction{*account, 0.42, i, time};
    if (auto account = ExpiredAccount(i - kExpiredGap)) {
      return Transaction{*account, 742.00, i, time};
    }
    uint64_t x = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
    double amount = 1.0 + static_cast<double>((x >> 20) % 49900) / 100.0;  // [1, 500)
    return Transaction{static_cast<int64_t>((x >> 7) % accounts), amount, i, time};
  }
  // The account of an expired plant's small transaction at `i`, if one is there.
  std::optional<int64_t> ExpiredAccount(int64_t i) const {
    if (i < 0 || i % 2 != 0) return std::nullopt;
    const int64_t pair = i / 2;
    if (pair % spacing != spacing / 2 || pair / spacing >= expired) return std::nullopt;
    return (pair / spacing + accounts / 2) % accounts;
  }
};

class FraudDetector final : public sluice::KeyedProcessFunction<int64_t, Transaction, Alert> {
 public:
  void Open(sluice::KeyedContext<int64_t>& ctx) override {
    small_ = &ctx.GetState(sluice::ValueStateDescriptor<double>("small-amount"));
    timer_ = &ctx.GetState(sluice::ValueStateDescriptor<int64_t>("timer"));
  }
  // The timer only frees the state: whether the large one is within the
  // minute is decided by the two timestamps, not by when the watermark moved.
  void ProcessElement(const Transaction& t, sluice::KeyedContext<int64_t>& ctx,
                      sluice::Collector<Alert>& out) override {
    auto small = small_->value();
    auto deadline = timer_->value();
    if (small && deadline && t.amount > kLarge && t.time <= *deadline) {
      out.Collect(Alert{t.account, *small, t.amount, t.sequence});
      Clear(ctx);
    }
    if (t.amount < kSmall) {
      Clear(ctx);
      small_->update(t.amount);
      const int64_t when = t.time + kMinuteMs;
      ctx.RegisterEventTimeTimer(when);
      timer_->update(when);
    }
  }
  void OnTimer(int64_t, sluice::KeyedContext<int64_t>&, sluice::Collector<Alert>&) override {
    small_->clear();
    timer_->clear();
  }

 private:
  void Clear(sluice::KeyedContext<int64_t>& ctx) {
    if (auto timer = timer_->value()) ctx.DeleteEventTimeTimer(*timer);
    small_->clear();
    timer_->clear();
  }
  sluice::ValueState<double>* small_ = nullptr;
  sluice::ValueState<int64_t>* timer_ = nullptr;
};

}  // namespace

SLUICE_JOB(FraudDetection) {
  auto flags = sluice::ParameterTool::FromArgs(args);
  auto count = static_cast<int64_t>(flags.GetDouble("transactions", 100000));
  auto accounts = static_cast<int64_t>(flags.GetDouble("accounts", 1000));
  auto frauds = static_cast<int64_t>(flags.GetDouble("frauds", 25));
  auto expired = static_cast<int64_t>(flags.GetDouble("expired", 10));
  int64_t spacing = std::max<int64_t>(1, count / 2 / std::max<int64_t>(1, frauds));
  auto alerts = env.Generate(TransactionGenerator{accounts, spacing, frauds, expired}, count,
                             flags.GetDouble("rate", 0))
                    .Name("Transactions")
                    .SetParallelism(1)  // one ordered stream, so "followed by" is well defined
                    .AssignTimestampsAndWatermarks(
                        sluice::WatermarkStrategy<Transaction>::ForMonotonousTimestamps()
                            .WithTimestampAssigner([](const Transaction& t) { return t.time; }))
                    .SetParallelism(1)
                    .KeyBy([](const Transaction& t) { return t.account; })
                    .Process<FraudDetector>("FraudDetector");
  std::string output = flags.Get("output", "");
  if (output.empty()) {
    alerts.Print().Name("Alerts");
  } else {
    alerts.WriteAsText(output).Name("Alerts");
  }
}
