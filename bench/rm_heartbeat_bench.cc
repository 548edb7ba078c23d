// ResourceManager heartbeat load: N simulated TaskManagers, each a real gRPC
// session stream on loopback, heartbeat one real sluice-resourcemanager
// process at 1 Hz. Reports the RM's CPU use (from /proc) and the heartbeat
// round trip (send -> ack, as the client sees it) p50/p99.
//
//   build/bin/rm_heartbeat_bench [--taskmanagers 1000,10000] [--seconds 20]
//                                [--sessions-per-channel 100] [--threads 4]
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/process_stats.h"
#include "common/rpc/session_stream.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"
#include "tests/testing/test_cluster.h"

extern char** environ;

namespace sluice::bench {
namespace {

using Stream = SessionStream<v1::TaskManagerMessage, v1::ResourceManagerMessage>;

struct Options {
  std::vector<int> task_managers = {1000, 10000};
  int seconds = 20;
  int sessions_per_channel = 100;
  int threads = 4;
};

// The RM as its own process, so its CPU use is its own.
class ResourceManagerProcess {
 public:
  explicit ResourceManagerProcess(int port) {
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("sluice-bench-", getpid());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "sluice.yaml")
        << "jobmanager.rpc.address: 127.0.0.1\nresourcemanager.rpc.address: 127.0.0.1\n"
        << "resourcemanager.bind-host: 127.0.0.1\nresourcemanager.rpc.port: " << port
        << "\nmetrics.reporter.prom.port: 0\nlog.level: warn\n";
    std::string binary = SLUICE_BINARY_DIR "/bin/sluice-resourcemanager";
    std::string conf = dir_.string();
    std::vector<char*> argv = {binary.data(), const_cast<char*>("--conf-dir"), conf.data(),
                               nullptr};
    // The RM logs to a file beside its config, not into the report.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string log = (dir_ / "resourcemanager.log").string();
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    int spawned = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      std::cerr << "cannot start " << binary << "\n";
      std::exit(1);
    }
  }
  ~ResourceManagerProcess() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  pid_t pid() const { return pid_; }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = 0;
};

// One simulated TaskManager.
struct SimulatedTaskManager {
  std::unique_ptr<Stream> stream;
  std::atomic<bool> accepted{false};
  std::atomic<int64_t> sent_at_ns{0};
  std::atomic<bool> done{false};
};

class LatencyRecorder {
 public:
  void Record(int64_t ns) {
    absl::MutexLock lock(&mu_);
    if (recording_) samples_.push_back(ns);
  }
  void SetRecording(bool on) {
    absl::MutexLock lock(&mu_);
    recording_ = on;
  }
  std::vector<int64_t> Take() {
    absl::MutexLock lock(&mu_);
    std::sort(samples_.begin(), samples_.end());
    return std::move(samples_);
  }

 private:
  absl::Mutex mu_;
  bool recording_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int64_t> samples_ ABSL_GUARDED_BY(mu_);
};

v1::TaskManagerMessage Register(int i) {
  v1::TaskManagerMessage message;
  auto* reg = message.mutable_register_();
  reg->set_task_manager_id(absl::StrCat("sim-tm-", i));
  reg->set_rpc_address(absl::StrCat("10.0.", i / 250, ".", i % 250, ":6122"));
  reg->mutable_total_resources()->set_cpu_cores(2);
  reg->mutable_total_resources()->set_memory_bytes(2LL << 30);
  for (int s = 0; s < 2; ++s) {
    auto* slot = reg->add_slots();
    slot->set_index(s);
    slot->mutable_profile()->set_cpu_cores(1);
    slot->mutable_profile()->set_memory_bytes(1LL << 30);
  }
  return message;
}

v1::TaskManagerMessage Heartbeat(const v1::TaskManagerMessage& reg, uint64_t sequence) {
  v1::TaskManagerMessage message;
  message.mutable_heartbeat()->set_sequence(sequence);
  *message.mutable_heartbeat()->mutable_slots() = reg.register_().slots();
  message.mutable_heartbeat()->mutable_usage()->set_cpu_seconds(1.0);
  message.mutable_heartbeat()->mutable_usage()->set_resident_memory_bytes(100 << 20);
  return message;
}

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

void RunOne(int n, const Options& options) {
  int port = testing::PickFreePort();
  ResourceManagerProcess rm(port);
  std::string target = absl::StrCat("127.0.0.1:", port);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::ResourceManager::Stub>> stubs;
  for (int c = 0; c * options.sessions_per_channel < n; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one TCP connection per channel
    channels.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::ResourceManager::NewStub(channels.back()));
  }
  // Wait for the RM process to listen before opening the sessions.
  for (auto& channel : channels) {
    if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(30)))) {
      std::cerr << "the ResourceManager did not start listening on " << target << "\n";
      std::exit(1);
    }
  }
  LatencyRecorder latencies;
  std::vector<std::unique_ptr<SimulatedTaskManager>> tms(n);
  std::vector<v1::TaskManagerMessage> registrations(n);
  for (int i = 0; i < n; ++i) {
    registrations[i] = Register(i);
    tms[i] = std::make_unique<SimulatedTaskManager>();
  }
  std::atomic<int> accepted{0};
  std::atomic<bool> stop{false};

  // Driver threads: each owns a share of the TaskManagers and heartbeats
  // each of them once per second, spread evenly over the second.
  std::vector<std::thread> drivers;
  for (int t = 0; t < options.threads; ++t) {
    drivers.emplace_back([&, t] {
      std::vector<int> mine;
      for (int i = t; i < n; i += options.threads) mine.push_back(i);
      uint64_t sequence = 0;
      while (!stop) {
        absl::Time round = absl::Now();
        ++sequence;
        for (size_t k = 0; k < mine.size() && !stop; ++k) {
          absl::Time due = round + absl::Seconds(1) * static_cast<double>(k) / mine.size();
          absl::SleepFor(due - absl::Now());
          SimulatedTaskManager& tm = *tms[mine[k]];
          if (!tm.accepted || tm.done) continue;
          tm.sent_at_ns = NowNs();
          tm.stream->Send(Heartbeat(registrations[mine[k]], sequence));
        }
        absl::SleepFor(round + absl::Seconds(1) - absl::Now());
      }
    });
  }

  // Open the sessions (the registration storm is part of the run, not measured).
  absl::Time connect_start = absl::Now();
  for (int i = 0; i < n; ++i) {
    SimulatedTaskManager* tm = tms[i].get();
    auto* stub = stubs[i / options.sessions_per_channel].get();
    tm->stream = std::make_unique<Stream>(
        [stub](grpc::ClientContext* context, auto* reactor) {
          stub->async()->TaskManagerSession(context, reactor);
        },
        [tm, &accepted, &latencies](v1::ResourceManagerMessage message) {
          if (message.has_accepted()) {
            tm->accepted = true;
            ++accepted;
          } else if (message.has_ack()) {
            latencies.Record(NowNs() - tm->sent_at_ns);
          }
        },
        [tm](const grpc::Status& status) {
          if (!tm->done.exchange(true) && !status.ok() &&
              status.error_code() != grpc::StatusCode::CANCELLED) {
            static std::atomic<bool> reported{false};
            if (!reported.exchange(true)) {
              std::fprintf(stderr, "first session error: %d %s\n", status.error_code(),
                           status.error_message().c_str());
            }
          }
        });
    tm->stream->Start(registrations[i]);
  }
  while (accepted < n && absl::Now() - connect_start < absl::Seconds(120)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::Duration connect_time = absl::Now() - connect_start;

  absl::SleepFor(absl::Seconds(2));  // warm-up: every TaskManager in its 1 Hz rhythm
  latencies.SetRecording(true);
  ProcessUsage before = ReadProcessUsage(rm.pid());
  absl::Time start = absl::Now();
  absl::SleepFor(absl::Seconds(options.seconds));
  ProcessUsage after = ReadProcessUsage(rm.pid());
  double wall = absl::ToDoubleSeconds(absl::Now() - start);
  latencies.SetRecording(false);
  stop = true;
  for (auto& d : drivers) d.join();
  int lost = 0;
  for (auto& tm : tms) lost += tm->done ? 1 : 0;
  for (auto& tm : tms) tm->stream->Cancel();
  for (auto& tm : tms) tm->stream->WaitDone();

  std::vector<int64_t> samples = latencies.Take();
  auto percentile = [&](double p) {
    return samples.empty()
               ? 0.0
               : samples[std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()))] /
                     1e6;
  };
  std::printf("| %6d | %5d | %8.1f | %9.0f | %7.1f%% | %8.1f MiB | %7.2f ms | %7.2f ms | %4d |\n",
              n, accepted.load(), absl::ToDoubleSeconds(connect_time), samples.size() / wall,
              (after.cpu_seconds - before.cpu_seconds) / wall * 100.0,
              after.resident_memory_bytes / 1048576.0, percentile(0.5), percentile(0.99), lost);
  std::fflush(stdout);
}

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--taskmanagers") {
      options.task_managers.clear();
      for (auto part : absl::StrSplit(value, ',')) {
        int n = 0;
        if (absl::SimpleAtoi(part, &n) && n > 0) options.task_managers.push_back(n);
      }
    } else if (flag == "--seconds") {
      options.seconds = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--sessions-per-channel") {
      options.sessions_per_channel = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--threads") {
      options.threads = std::max(1, std::atoi(value.c_str()));
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      std::exit(2);
    }
  }
  return options;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  auto options = sluice::bench::Parse(argc, argv);
  std::printf(
      "| TMs    | registered | connect s | heartbeats/s | RM CPU (%% of one core) | RM RSS | "
      "RTT p50 | RTT p99 | lost |\n|---|---|---|---|---|---|---|---|---|\n");
  for (int n : options.task_managers) sluice::bench::RunOne(n, options);
  return 0;
}
