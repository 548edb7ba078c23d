// The engine running real jobs in this process: results, failures,
// cancellation, backpressure, timers.
#include "engine/local_job.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/process_stats.h"
#include "sluice/internal/file_writer.h"
#include "sluice/sluice.h"
#include "tests/testing/local_run.h"

namespace sluice::engine {
namespace {

using ::testing::HasSubstr;
using Count = std::pair<std::string, int64_t>;

JobResult RunToEnd(StreamEnvironment& env, std::ostream* print = nullptr) {
  LocalJobOptions options;
  std::ostringstream discard;
  options.print_out = print != nullptr ? print : &discard;
  auto job = LocalJob::Start(env.Build(), options);
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return {};
  auto result = (*job)->WaitFor(absl::Seconds(60));
  EXPECT_TRUE(result.has_value()) << "the job did not end within 60 s";
  return result.value_or(JobResult{});
}

using testing::Collected;  // a thread-safe place for callback sinks to put what they see

TEST(LocalJobTest, WordCountAtParallelismFourMatchesAnIndependentCount) {
  // A corpus of 200,000 words from a 500-word vocabulary, in 8 files.
  auto dir = std::filesystem::temp_directory_path() / ("sluice-wc-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::mt19937 rng(7);
  std::map<std::string, int64_t> expected;
  for (int f = 0; f < 8; ++f) {
    std::ofstream out(dir / ("part-" + std::to_string(f) + ".txt"));
    for (int line = 0; line < 2500; ++line) {
      for (int w = 0; w < 10; ++w) {
        std::string word = "w" + std::to_string(rng() % 500);
        ++expected[word];
        out << word << (w == 9 ? "\n" : " ");
      }
    }
  }
  auto collected = std::make_shared<Collected<Count>>();
  StreamEnvironment env("WordCount");
  env.SetParallelism(4);
  env.ReadTextFiles(dir.string())
      .FlatMap<Count>([](const std::string& line, Collector<Count>& out) {
        std::istringstream words(line);
        for (std::string w; words >> w;) out.Collect(Count{w, 1});
      })
      .KeyBy([](const Count& c) { return c.first; })
      .Sum<1>()
      .Sink([collected](const Count& c) { collected->Add(c); });
  JobResult result = RunToEnd(env);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;
  std::map<std::string, int64_t> counted;  // the last (largest) running count per word
  for (const auto& [word, n] : collected->items) counted[word] = std::max(counted[word], n);
  EXPECT_EQ(counted, expected);
  EXPECT_EQ(collected->items.size(), 200000u) << "one running count per input word";
}

TEST(LocalJobTest, PartitioningsDeliverEveryRecordWhereItBelongs) {
  auto seen = std::make_shared<Collected<std::pair<int64_t, int>>>();
  StreamEnvironment env("partitioning");
  env.SetParallelism(3);
  auto numbers = env.Sequence(0, 300);
  numbers.Rebalance()
      .Map([](int64_t x) { return x * 2; })
      .SetParallelism(2)
      .Union(env.Sequence(1000, 1010).SetParallelism(2))
      .Broadcast()
      .Map([](int64_t x) { return x; })
      .SetParallelism(3)
      .Sink([seen](const int64_t& x) {
        seen->Add({x, 0});
      })
      .SetParallelism(3);
  JobResult result = RunToEnd(env);
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;
  EXPECT_EQ(seen->items.size(), 3u * 310u) << "broadcast: every subtask sees every record";
}

TEST(LocalJobTest, AStreamFeedsSeveralConsumers) {
  auto evens = std::make_shared<Collected<int64_t>>();
  auto all = std::make_shared<Collected<int64_t>>();
  StreamEnvironment env("fan-out");
  env.SetParallelism(2);
  auto numbers = env.Sequence(0, 1000).Map([](int64_t x) { return x; }).Name("Numbers");
  numbers.Filter([](const int64_t& x) { return x % 2 == 0; }).Sink([evens](const int64_t& x) {
    evens->Add(x);
  });
  numbers.Sink([all](const int64_t& x) { all->Add(x); });
  JobResult result = RunToEnd(env);
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;
  EXPECT_EQ(evens->items.size(), 500u);
  EXPECT_EQ(all->items.size(), 1000u);
}

TEST(LocalJobTest, AUserExceptionFailsTheJobNamingOperatorSubtaskAndMessage) {
  StreamEnvironment env("failing");
  env.SetParallelism(2);
  env.Sequence(0, 1000)
      .Map([](int64_t x) {
        if (x == 500) throw std::runtime_error("record 500 is cursed");
        return x;
      })
      .Name("Curse")
      .Discard();
  JobResult result = RunToEnd(env);
  EXPECT_EQ(result.state, JobState::kFailed);
  EXPECT_THAT(result.error, HasSubstr("operator 'Curse' of Sequence -> Curse -> Discard (1/2)"));
  EXPECT_THAT(result.error, HasSubstr("failed: record 500 is cursed"));
}

// A full disk used to go unnoticed until the end of a bounded job, and for
// ever in a streaming one. Here the file size limit (RLIMIT_FSIZE, as a full
// disk: the write that does not fit fails) stops the text file sink of an
// unbounded job: the job fails at once, with the operating system's reason.
TEST(LocalJobTest, ASinksWriteErrorFailsTheStreamingJobWithTheReason) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sluice-full-disk-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  StreamEnvironment env("full-disk");
  env.SetParallelism(1);
  env.Generate([](int64_t i) { return std::string(100, static_cast<char>('a' + i % 26)); })
      .WriteAsText(dir.string())
      .Name("Files");
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 1 << 20;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  LocalJobOptions options;
  auto job = LocalJob::Start(env.Build(), options);
  ASSERT_TRUE(job.ok()) << job.status();
  auto result = (*job)->WaitFor(absl::Seconds(30));
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(result.has_value()) << "the streaming job went on although its output was lost";
  EXPECT_EQ(result->state, JobState::kFailed);
  EXPECT_THAT(result->error, HasSubstr("operator 'Files'"));
  EXPECT_THAT(result->error, HasSubstr("cannot write " + dir.string() + "/.part-0-1-"));
  EXPECT_THAT(result->error, HasSubstr(": File too large"));
}

TEST(LocalJobTest, AWriteToAFullDeviceThrowsWithTheReason) {
  internal::FileWriter writer;
  writer.Open("/dev/full");
  try {
    writer.Append(std::string(internal::FileWriter::kBufferBytes + 1, 'x'));
    writer.Close();
    ADD_FAILURE() << "the writes to /dev/full succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot write /dev/full: No space left on device");
  }
}

TEST(LocalJobTest, CancelStopsAnUnboundedJobPromptly) {
  StreamEnvironment env("forever");
  env.SetParallelism(2);
  env.Generate([](int64_t i) { return i; })
      .KeyBy([](const int64_t& x) { return x % 7; })
      .Reduce([](const int64_t& a, const int64_t& b) { return a + b; })
      .Discard();
  LocalJobOptions options;
  auto job = LocalJob::Start(env.Build(), options);
  ASSERT_TRUE(job.ok());
  EXPECT_FALSE((*job)->WaitFor(absl::Milliseconds(200)).has_value()) << "it runs";
  absl::Time asked = absl::Now();
  (*job)->Cancel();
  auto result = (*job)->WaitFor(absl::Seconds(5));
  ASSERT_TRUE(result.has_value()) << "cancel must end the job within a bounded time";
  EXPECT_EQ(result->state, JobState::kCanceled);
  EXPECT_LT(absl::Now() - asked, absl::Seconds(2));
}

TEST(LocalJobTest, ASlowSinkThrottlesTheSourceInsteadOfGrowingMemory) {
  auto generated = std::make_shared<std::atomic<int64_t>>(0);
  auto consumed = std::make_shared<std::atomic<int64_t>>(0);
  StreamEnvironment env("backpressure");
  env.SetParallelism(1);
  env.Generate([generated](int64_t i) {
       generated->fetch_add(1);
       return std::string(100, static_cast<char>('a' + i % 26));
     })
      .Rebalance()
      .Sink([consumed](const std::string&) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        consumed->fetch_add(1);
      });
  LocalJobOptions options;
  options.buffers_per_channel = 2;
  auto job = LocalJob::Start(env.Build(), options);
  ASSERT_TRUE(job.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int64_t rss_before = ReadProcessUsage().resident_memory_bytes;
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  int64_t rss_growth = ReadProcessUsage().resident_memory_bytes - rss_before;
  int64_t lead = generated->load() - consumed->load();
  // What the pool metrics show meanwhile: the source's output and the sink's
  // input buffers are full.
  double output_usage = 0, input_usage = 0;
  for (const Task* task : (*job)->tasks()) {
    output_usage = std::max(output_usage, task->output_pool_usage());
    input_usage = std::max(input_usage, task->input_pool_usage());
  }
  EXPECT_GE(output_usage, 0.5);
  EXPECT_GE(input_usage, 0.5);
  (*job)->Cancel();
  ASSERT_TRUE((*job)->WaitFor(absl::Seconds(5)).has_value());
  // In flight at most: 2 queued buffers + 1 being read + 1 being filled, of
  // ~300 records (~104 bytes each in 32 KiB), plus one source batch.
  EXPECT_GT(consumed->load(), 0);
  EXPECT_LT(lead, 4 * 320 + 1024) << "the source ran ahead by " << lead << " records";
  EXPECT_LT(rss_growth, 8 << 20) << "memory grew by " << rss_growth << " bytes while throttled";
}

TEST(LocalJobTest, OperatorMetricsCountWhatEachChainedOperatorReceivedAndEmitted) {
  StreamEnvironment env("counted");
  env.SetParallelism(1);
  env.Sequence(0, 1000)
      .Filter([](const int64_t& x) { return x % 2 == 0; })
      .Map([](const int64_t& x) { return x * 10; })
      .KeyBy([](const int64_t& x) { return x % 3; })
      .Reduce([](const int64_t& a, const int64_t& b) { return a + b; })
      .Discard();
  LocalJobOptions options;
  auto job = LocalJob::Start(env.Build(), options);
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE((*job)->WaitFor(absl::Seconds(30)).has_value());
  std::vector<std::vector<uint64_t>> seen;  // per task: in, out of each operator
  std::set<int> node_ids;                   // the metrics' operator_id: one per operator
  size_t operators = 0;
  for (const Task* task : (*job)->tasks()) {
    std::vector<uint64_t> counts;
    for (const auto& op : task->operator_counts()) {
      EXPECT_FALSE(op.name.empty());
      node_ids.insert(op.node_id);
      ++operators;
      counts.push_back(op.records_in);
      counts.push_back(op.records_out);
    }
    seen.push_back(counts);
  }
  EXPECT_EQ(node_ids.size(), operators);
  std::sort(seen.begin(), seen.end());
  // Sequence -> Filter -> Map, then Reduce -> Discard.
  EXPECT_THAT(seen,
              ::testing::UnorderedElementsAre(std::vector<uint64_t>{0, 1000, 1000, 500, 500, 500},
                                              std::vector<uint64_t>{500, 500, 500, 0}));
}

TEST(LocalJobTest, ASinkFunctionsFinishIsCalledOncePerSubtaskAtTheEnd) {
  struct Finishing {
    std::shared_ptr<std::atomic<int>> records, finished;
    void operator()(const int64_t&) { records->fetch_add(1); }
    void Finish() { finished->fetch_add(1); }
  };
  auto records = std::make_shared<std::atomic<int>>(0);
  auto finished = std::make_shared<std::atomic<int>>(0);
  StreamEnvironment env("finishing");
  env.SetParallelism(2);
  env.Sequence(0, 100).Rebalance().Sink(Finishing{records, finished});
  RunToEnd(env);
  EXPECT_EQ(records->load(), 100);
  EXPECT_EQ(finished->load(), 2);
}

TEST(LocalJobTest, WithBufferTimeoutZeroRecordsFlowAtOnceAndIdleTasksSleep) {
  auto seen = std::make_shared<std::atomic<int>>(0);
  StreamEnvironment env("trickle");
  env.SetParallelism(1);
  env.Generate([](int64_t i) { return i; }, -1, 20)  // 20 records/s: a buffer never fills
      .Rebalance()
      .Sink([seen](const int64_t&) { seen->fetch_add(1); });
  LocalJobOptions options;
  options.buffer_timeout = absl::ZeroDuration();
  auto job = LocalJob::Start(env.Build(), options);
  ASSERT_TRUE(job.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double cpu_before = ReadProcessUsage().cpu_seconds;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double cpu = ReadProcessUsage().cpu_seconds - cpu_before;
  int arrived = seen->load();
  (*job)->Cancel();
  ASSERT_TRUE((*job)->WaitFor(absl::Seconds(5)).has_value());
  EXPECT_GE(arrived, 10) << "records must not wait for a full buffer";
  // A task polling instead of sleeping would burn a whole core.
  EXPECT_LT(cpu, 0.5) << "the job used " << cpu << " s of CPU in 1 s at 20 records/s";
}

TEST(LocalJobTest, SocketTextSourceReadsLinesUntilTheServerCloses) {
  int server = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(server, 1), 0);
  ASSERT_EQ(getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::thread feeder([server] {
    int client = accept(server, nullptr, nullptr);
    std::string text = "alpha beta\ngamma\nlast line without newline";
    (void)!write(client, text.data(), text.size());
    close(client);
  });
  auto lines = std::make_shared<Collected<std::string>>();
  StreamEnvironment env("socket");
  env.SocketTextStream("127.0.0.1", ntohs(addr.sin_port)).Sink([lines](const std::string& line) {
    lines->Add(line);
  });
  JobResult result = RunToEnd(env);
  feeder.join();
  close(server);
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;
  EXPECT_EQ(lines->items,
            (std::vector<std::string>{"alpha beta", "gamma", "last line without newline"}));
}

class ExpiringFlag final : public KeyedProcessFunction<int64_t, int64_t, std::string> {
 public:
  void Open(KeyedContext<int64_t>& ctx) override {
    seen_ = &ctx.GetState(ValueStateDescriptor<int64_t>("seen"));
  }
  void ProcessElement(const int64_t& v, KeyedContext<int64_t>& ctx,
                      Collector<std::string>&) override {
    seen_->update(v);
    ctx.RegisterProcessingTimeTimer(ctx.CurrentProcessingTime() + 20);
  }
  void OnTimer(int64_t, KeyedContext<int64_t>& ctx, Collector<std::string>& out) override {
    if (!seen_->value()) return;  // an earlier timer of this key already expired it
    out.Collect("expired " + std::to_string(ctx.current_key()) + " after " +
                std::to_string(seen_->value().value_or(-1)));
    seen_->clear();
  }

 private:
  ValueState<int64_t>* seen_ = nullptr;
};

TEST(LocalJobTest, ProcessingTimeTimersFireForTheirKey) {
  auto out = std::make_shared<Collected<std::string>>();
  StreamEnvironment env("timers");
  env.SetParallelism(2);
  // Keys 0, 1, 2 again and again, slowly enough for each timer to fire
  // before its key comes back.
  env.Generate([](int64_t i) { return i % 3; }, -1, /*rate_per_second=*/20)
      .KeyBy([](const int64_t& x) { return x; })
      .Process<ExpiringFlag>()
      .Sink([out](const std::string& s) { out->Add(s); });
  LocalJobOptions options;
  auto job = LocalJob::Start(env.Build(), options);
  ASSERT_TRUE(job.ok());
  auto deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(out->mu);
      if (std::set<std::string>(out->items.begin(), out->items.end()).size() >= 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*job)->Cancel();
  (*job)->Wait();
  std::set<std::string> distinct(out->items.begin(), out->items.end());
  EXPECT_EQ(distinct,
            (std::set<std::string>{"expired 0 after 0", "expired 1 after 1", "expired 2 after 2"}));
}

TEST(LocalJobTest, PrintAndTextFileSinksWriteWholeLinesAndFinishFilesAtomically) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice-out-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  StreamEnvironment env("sinks");
  env.SetParallelism(2);
  auto numbers = env.Sequence(0, 100);
  numbers.Map([](int64_t x) { return std::make_pair(x, x * x); }).WriteAsText(dir.string());
  std::ostringstream printed;
  StreamEnvironment env2("print");
  env2.SetParallelism(2);
  env2.Sequence(0, 10).Print();
  ASSERT_EQ(RunToEnd(env).state, JobState::kFinished);
  ASSERT_EQ(RunToEnd(env2, &printed).state, JobState::kFinished);
  int lines = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().filename().string().rfind("part-", 0), 0u) << entry.path();
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) ++lines;
  }
  EXPECT_EQ(lines, 100);
  std::filesystem::remove_all(dir);
  std::istringstream print_lines(printed.str());
  int printed_lines = 0;
  for (std::string line; std::getline(print_lines, line); ++printed_lines) {
    EXPECT_THAT(line, ::testing::MatchesRegex("[12]> [0-9]+"));
  }
  EXPECT_EQ(printed_lines, 10);
}

}  // namespace
}  // namespace sluice::engine

namespace sluice::engine {
namespace {

// Registers a timer far in the future for every record and emits on the
// timer and once at the end: a bounded job must still see all of it.
class SumOnTimer final : public KeyedProcessFunction<int64_t, int64_t, std::string> {
 public:
  void Open(KeyedContext<int64_t>& ctx) override {
    sum_ = &ctx.GetState(ReducingStateDescriptor<int64_t>(
        "sum", [](const int64_t& a, const int64_t& b) { return a + b; }));
  }
  void ProcessElement(const int64_t& v, KeyedContext<int64_t>& ctx,
                      Collector<std::string>&) override {
    sum_->add(v);
    // One timer per key (year 2100): "now + 1 h" would give a key one timer
    // per millisecond its records span, each firing at the end of input.
    ctx.RegisterProcessingTimeTimer(4'102'444'800'000);
  }
  void OnTimer(int64_t, KeyedContext<int64_t>& ctx, Collector<std::string>& out) override {
    out.Collect("key " + std::to_string(ctx.current_key()) + " sum " +
                std::to_string(sum_->get().value_or(0)));
  }
  void OnEndOfInput(Collector<std::string>& out) override { out.Collect("end"); }

 private:
  ReducingState<int64_t>* sum_ = nullptr;
};

TEST(LocalJobTest, PendingTimersFireWhenABoundedInputEnds) {
  auto out = std::make_shared<Collected<std::string>>();
  StreamEnvironment env("end-of-input");
  env.SetParallelism(2);
  env.Sequence(0, 1000)
      .KeyBy([](const int64_t& x) { return x % 4; })
      .Process<SumOnTimer>()
      .Sink([out](const std::string& s) { out->Add(s); });
  ASSERT_EQ(RunToEnd(env).state, JobState::kFinished);
  std::multiset<std::string> expected{"end", "end"};  // once per subtask
  for (int64_t k = 0; k < 4; ++k) {
    int64_t sum = 0;
    for (int64_t x = k; x < 1000; x += 4) sum += x;
    expected.insert("key " + std::to_string(k) + " sum " + std::to_string(sum));
  }
  EXPECT_EQ(std::multiset<std::string>(out->items.begin(), out->items.end()), expected);
}

struct Plain {  // no operator<<: printing it needs a formatter
  int64_t id = 0;
};
SLUICE_SERIALIZABLE(Plain, id);

TEST(LocalJobTest, FlatMapDeducesItsOutputAndSinksTakeAFormatter) {
  std::ostringstream printed;
  StreamEnvironment env("formatter");
  env.Sequence(0, 3)
      .FlatMap([](const int64_t& x, Collector<Plain>& out) {
        out.Collect(Plain{x});
        out.Collect(Plain{x + 10});
      })
      .Print([](const Plain& p) { return "plain #" + std::to_string(p.id); });
  ASSERT_EQ(RunToEnd(env, &printed).state, JobState::kFinished);
  std::multiset<std::string> lines;
  std::istringstream in(printed.str());
  for (std::string line; std::getline(in, line);) lines.insert(line);
  EXPECT_EQ(lines, (std::multiset<std::string>{"1> plain #0", "1> plain #10", "1> plain #1",
                                               "1> plain #11", "1> plain #2", "1> plain #12"}));
}

// Barriers and watermarks injected at the sources while records flow through
// a keyed exchange: each sink subtask sees every barrier exactly once, in
// order, after aligning both its input channels, and the watermark as the
// minimum over them; not a record is lost or repeated by the blocking.
TEST(LocalJobTest, InBandEventsTravelWithTheRecordsToEverySink) {
  std::mutex mu;
  std::map<int, std::vector<int64_t>> barriers;  // per sink subtask
  std::map<int, int64_t> watermarks;
  auto sums = std::make_shared<Collected<int64_t>>();
  StreamEnvironment env("events");
  env.SetParallelism(2);
  constexpr int64_t kRecords = 400000;
  env.Generate([](int64_t i) { return i; }, kRecords, /*rate_per_second=*/400000)
      .KeyBy([](const int64_t& x) { return x % 97; })
      .Reduce([](const int64_t& a, const int64_t& b) { return a + b; })
      .Name("Sum")
      .Sink([sums](const int64_t& v) { sums->Add(v); });
  JobGraph graph = env.Build();
  const int sink_vertex = graph.vertices.back().id;
  LocalJobOptions options;
  options.buffer_timeout = absl::Milliseconds(1);
  options.on_event = [&](int vertex, int subtask, const ChannelEvent& event) {
    if (vertex != sink_vertex) return;
    std::lock_guard<std::mutex> lock(mu);
    if (event.kind == EventKind::kCheckpointBarrier) barriers[subtask].push_back(event.id);
    if (event.kind == EventKind::kWatermark) watermarks[subtask] = event.timestamp;
  };
  auto job = LocalJob::Start(std::move(graph), options);
  ASSERT_TRUE(job.ok()) << job.status();
  for (int64_t id = 1; id <= 10; ++id) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (*job)->InjectAtSources({EventKind::kCheckpointBarrier, id, id * 100});
    (*job)->InjectAtSources({EventKind::kWatermark, 0, id * 1000});
  }
  auto result = (*job)->WaitFor(absl::Seconds(60));
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(result->state, JobState::kFinished) << result->error;
  std::lock_guard<std::mutex> lock(mu);
  for (int subtask = 0; subtask < 2; ++subtask) {
    const auto& seen = barriers[subtask];
    EXPECT_FALSE(seen.empty()) << "subtask " << subtask;
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), seen.size()) << "no repeats";
    EXPECT_GT(watermarks[subtask], 0);
  }
  // The running sums' final values per key equal an independent sum: no
  // record was lost or repeated while channels were blocked.
  std::map<int64_t, int64_t> expected;
  for (int64_t i = 0; i < kRecords; ++i) expected[i % 97] += i;
  std::multiset<int64_t> finals;
  for (const auto& [key, sum] : expected) finals.insert(sum);
  std::multiset<int64_t> seen(sums->items.begin(), sums->items.end());
  for (int64_t sum : finals) EXPECT_EQ(seen.count(sum), 1u) << sum;
  EXPECT_EQ(sums->items.size(), static_cast<size_t>(kRecords));
}

}  // namespace
}  // namespace sluice::engine
