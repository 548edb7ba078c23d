// Fraud detection over a generated stream of card transactions: an account is
// flagged when a small transaction (< 1.00) is followed by a large one
// (> 500.00) within one minute. Keyed value state remembers the small one; a
// processing-time timer forgets it after the minute.
//
//   sluice run --local -c FraudDetection libsluice_examples.so --
//       [--transactions 100000] [--accounts 1000] [--frauds 25] [--rate 0] [--output <dir>]
#include <cstdint>
#include <sstream>

#include "sluice/parameter_tool.h"
#include "sluice/sluice.h"

struct Transaction {
  int64_t account = 0;
  double amount = 0;
  int64_t sequence = 0;
};
SLUICE_SERIALIZABLE(Transaction, account, amount, sequence);

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

// A deterministic stream: ordinary amounts stay within [1, 500]; every
// `spacing`-th pair of transactions is a planted fraud (0.42 then 742.00) on
// account (pair index % accounts).
struct TransactionGenerator {
  int64_t accounts;
  int64_t spacing;
  int64_t frauds;
  Transaction operator()(int64_t i) const {
    int64_t pair = i / 2;
    if (pair % spacing == spacing - 1 && pair / spacing < frauds) {
      int64_t account = (pair / spacing) % accounts;
      return Transaction{account, i % 2 == 0 ? 0.42 : 742.00, i};
    }
    uint64_t x = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
    double amount = 1.0 + static_cast<double>((x >> 20) % 49900) / 100.0;  // [1, 500)
    return Transaction{static_cast<int64_t>((x >> 7) % accounts), amount, i};
  }
};

class FraudDetector final : public sluice::KeyedProcessFunction<int64_t, Transaction, Alert> {
 public:
  void Open(sluice::KeyedContext<int64_t>& ctx) override {
    small_ = &ctx.GetState(sluice::ValueStateDescriptor<double>("small-amount"));
    timer_ = &ctx.GetState(sluice::ValueStateDescriptor<int64_t>("timer"));
  }
  void ProcessElement(const Transaction& t, sluice::KeyedContext<int64_t>& ctx,
                      sluice::Collector<Alert>& out) override {
    if (auto small = small_->value(); small && t.amount > kLarge) {
      out.Collect(Alert{t.account, *small, t.amount, t.sequence});
      Clear(ctx);
    }
    if (t.amount < kSmall) {
      Clear(ctx);
      small_->update(t.amount);
      int64_t when = ctx.CurrentProcessingTime() + kMinuteMs;
      ctx.RegisterProcessingTimeTimer(when);
      timer_->update(when);
    }
  }
  void OnTimer(int64_t, sluice::KeyedContext<int64_t>&, sluice::Collector<Alert>&) override {
    small_->clear();
    timer_->clear();
  }

 private:
  void Clear(sluice::KeyedContext<int64_t>& ctx) {
    if (auto timer = timer_->value()) ctx.DeleteProcessingTimeTimer(*timer);
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
  int64_t spacing = std::max<int64_t>(1, count / 2 / std::max<int64_t>(1, frauds));
  auto alerts = env.Generate(TransactionGenerator{accounts, spacing, frauds}, count,
                             flags.GetDouble("rate", 0))
                    .Name("Transactions")
                    .SetParallelism(1)  // one ordered stream, so "followed by" is well defined
                    .KeyBy([](const Transaction& t) { return t.account; })
                    .Process<FraudDetector>("FraudDetector");
  std::string output = flags.Get("output", "");
  if (output.empty()) {
    alerts.Print().Name("Alerts");
  } else {
    alerts.WriteAsText(output).Name("Alerts");
  }
}
