// How long a task's synchronous checkpoint work takes for a given amount of
// heap keyed state: snapshot every key group (SnapshotTask), serialize the
// task's snapshot, and write it as a checksummed, fsynced state file — what
// a TaskManager does at each barrier for a task whose state is too large to
// inline. Prints p50 and p99 over the rounds, per state size.
//   build/bin/checkpoint_bench [--mb 100,1000] [--rounds 7] [--dir /tmp]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/checkpoint_files.h"
#include "engine/heap_keyed_state_backend.h"
#include "engine/task_snapshot.h"
#include "sluice/state.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kValueBytes = 1000;

struct Options {
  std::vector<int> megabytes = {100, 1000};
  int rounds = 7;
  std::string dir = "/tmp";
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--mb") {
      o.megabytes.clear();
      for (auto part : absl::StrSplit(value, ',')) {
        int mb = 0;
        if (absl::SimpleAtoi(part, &mb) && mb > 0) o.megabytes.push_back(mb);
      }
    } else if (flag == "--rounds") {
      o.rounds = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--dir") {
      o.dir = value;
    }
  }
  return o;
}

// `megabytes` of values in one ValueState<std::string>, 1000 bytes per key.
std::unique_ptr<sluice::engine::HeapKeyedStateBackend> Fill(int megabytes) {
  auto backend = std::make_unique<sluice::engine::HeapKeyedStateBackend>(
      128, sluice::engine::KeyGroupRange{0, 127}, nullptr);
  auto* table = backend->State("value:state", sluice::internal::StateTypeOf<std::string>());
  const int64_t keys = static_cast<int64_t>(megabytes) * 1000 * 1000 / kValueBytes;
  std::string key(8, '\0');
  for (int64_t k = 0; k < keys; ++k) {
    std::memcpy(key.data(), &k, sizeof(k));
    backend->SetCurrentKey(key);
    *static_cast<std::string*>(table->GetOrCreate()) = std::string(kValueBytes, 'a' + k % 26);
  }
  return backend;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::printf("| heap state | rounds | p50 | p99 | snapshot | serialize | write + fsync |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int mb : o.megabytes) {
    auto backend = Fill(mb);
    std::vector<double> total, snap, ser, write;
    const std::string path = o.dir + "/sluice-checkpoint-bench-" + std::to_string(getpid());
    for (int r = 0; r < o.rounds; ++r) {
      const auto t0 = Clock::now();
      auto snapshot =
          sluice::engine::SnapshotTask(0, 0, r + 1, "", nullptr, {{"state", backend.get()}}, {});
      const auto t1 = Clock::now();
      std::string bytes = snapshot->SerializeAsString();
      const auto t2 = Clock::now();
      auto written = sluice::engine::WriteCheckpointFile(
          path, sluice::engine::CheckpointFileKind::kTaskState, bytes);
      const auto t3 = Clock::now();
      std::filesystem::remove(path);  // each checkpoint writes a new file
      if (!snapshot.ok() || !written.ok()) {
        std::fprintf(stderr, "checkpoint failed: %s %s\n", snapshot.status().ToString().c_str(),
                     written.ToString().c_str());
        return 1;
      }
      auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
      snap.push_back(seconds(t0, t1));
      ser.push_back(seconds(t1, t2));
      write.push_back(seconds(t2, t3));
      total.push_back(seconds(t0, t3));
    }
    std::printf("| %d MB | %d | %.3f s | %.3f s | %.3f s | %.3f s | %.3f s |\n", mb, o.rounds,
                Percentile(total, 0.5), Percentile(total, 0.99), Percentile(snap, 0.5),
                Percentile(ser, 0.5), Percentile(write, 0.5));
    std::fflush(stdout);
  }
  return 0;
}
