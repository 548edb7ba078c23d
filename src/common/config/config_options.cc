#include "common/config/config_options.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace sluice {
namespace {

constexpr double kMs = 1;
constexpr double kSecond = 1000 * kMs;
constexpr double kMiB = 1024.0 * 1024;

struct OptionBuilder : ConfigOption {
  OptionBuilder Required() && {
    required = true;
    return std::move(*this);
  }
  OptionBuilder OneOf(std::vector<std::string> values) && {
    allowed = std::move(values);
    return std::move(*this);
  }
  OptionBuilder MayBeUnset() && {
    may_be_unset = true;
    return std::move(*this);
  }
  OptionBuilder Aliases(std::vector<std::string> keys) && {
    aliases = std::move(keys);
    return std::move(*this);
  }
};

OptionBuilder Opt(std::string key, OptionType type, std::optional<std::string> default_value,
                  std::string description, double min = std::numeric_limits<double>::lowest(),
                  double max = std::numeric_limits<double>::max()) {
  OptionBuilder o;
  o.key = std::move(key);
  o.type = type;
  o.default_value = std::move(default_value);
  o.description = std::move(description);
  o.min = min;
  o.max = max;
  return o;
}

std::vector<ConfigOption> BuildOptions() {
  using T = OptionType;
  return {
      // --- addresses and ports -------------------------------------------
      Opt("jobmanager.rpc.address", T::kString, std::nullopt,
          "Host the JobManager's RPC endpoint is reached at. The CLI and the "
          "start scripts use it.")
          .Required(),
      Opt("jobmanager.rpc.port", T::kInt, "6123", "Port of the JobManager's RPC endpoint.", 0,
          65535),
      Opt("jobmanager.bind-host", T::kString, "127.0.0.1",
          "Address the JobManager's RPC server binds to. Beyond loopback it needs "
          "security.allow-insecure-remote."),
      Opt("jobmanager.work-dir", T::kString, "",
          "Where the JobManager keeps uploaded job libraries (by content hash). Empty: "
          "/tmp/sluice-jobmanager-<pid>, removed when the JobManager stops (and, if it was "
          "killed, when the next one starts). A configured directory is kept."),
      Opt("jobmanager.upload.timeout", T::kDuration, "5 min",
          "How long a job submission's upload (the job and its library) may take. One that has "
          "not completed by then (a stalled client, a half-open connection) is cancelled and its "
          "partial library removed.",
          1 * kMs, 24 * 3600 * kSecond),
      Opt("jobmanager.library.max-size", T::kMemorySize, "256m",
          "Largest job library the JobManager accepts.", 1024, 1e12),
      Opt("jobmanager.graph-builder.timeout", T::kDuration, "60 s",
          "How long a submitted job's build function may run. The JobManager never loads a "
          "job library itself: it builds the graph in a short-lived sluice-graph-builder "
          "process and kills it after this time.",
          100 * kMs, 24 * 3600 * kSecond),
      Opt("jobmanager.graph-builder.memory", T::kMemorySize, "1g",
          "Address space a sluice-graph-builder process may use (RLIMIT_AS).", 64 * kMiB, 1e13),
      Opt("jobstore.max-capacity", T::kInt, "1000",
          "Ended jobs (finished, canceled, failed) the JobManager remembers for `sluice list`; "
          "beyond it, the ones that ended first are forgotten. Running jobs are always kept.",
          0, 1000000000),
      Opt("jobstore.expiration-time", T::kDuration, "1 h",
          "How long the JobManager remembers an ended job.", 1 * kSecond,
          3650 * 24 * 3600 * kSecond),
      Opt("rest.port", T::kInt, "8081",
          "Port of the JobManager's HTTP server: the web UI at /, the REST API and /metrics. "
          "0 picks a free port.",
          0, 65535),
      Opt("env.log.dir", T::kString, "",
          "Directory of the daemons' log files, served by /jobmanager/logs and the web UI. "
          "Empty: $SLUICE_LOG_DIR, which the start scripts set (log/ of the installation)."),
      Opt("rest.bind-address", T::kString, "127.0.0.1",
          "Address the JobManager's HTTP server binds to. Beyond loopback it needs "
          "security.allow-insecure-remote."),
      Opt("resourcemanager.rpc.address", T::kString, std::nullopt,
          "Host the ResourceManager is reached at. TaskManagers and the JobManager connect here.")
          .Required(),
      Opt("resourcemanager.rpc.port", T::kInt, "6124",
          "Port of the ResourceManager's RPC endpoint.", 0, 65535),
      Opt("resourcemanager.bind-host", T::kString, "127.0.0.1",
          "Address the ResourceManager's RPC server binds to. Beyond loopback it needs "
          "security.allow-insecure-remote."),
      Opt("taskmanager.host", T::kString, "",
          "Host name or address this TaskManager advertises to others. Empty: "
          "taskmanager.bind-host if that is a loopback address (the default), else the "
          "machine's host name."),
      Opt("taskmanager.bind-host", T::kString, "127.0.0.1",
          "Address the TaskManager's RPC, data and metrics servers bind to. Beyond loopback "
          "it needs security.allow-insecure-remote."),
      Opt("security.allow-insecure-remote", T::kBool, "false",
          "Lets a daemon listen beyond loopback (a bind host such as 0.0.0.0) although its "
          "connections are neither encrypted nor authenticated: whoever reaches its ports "
          "controls the cluster. Only on a network you trust; without it such a daemon refuses "
          "to start and says why."),
      Opt("security.ssl.rest.enabled", T::kBool, "false",
          "Serves the REST API, the web UI and the JobManager's /metrics over HTTPS (Flink's "
          "key) with security.ssl.rest.certificate and .private-key; bin/sluice-certs.sh makes "
          "a cluster CA and certificates."),
      Opt("security.ssl.rest.certificate", T::kString, "",
          "PEM file of the REST server's certificate (its chain after it)."),
      Opt("security.ssl.rest.private-key", T::kString, "",
          "PEM file of the REST server's private key, unencrypted: keep it readable only by "
          "the JobManager's user."),
      Opt("security.admin-token", T::kString, "",
          "Turns on client authentication at the JobManager (REST, web UI, CLI): every request "
          "presents 'Authorization: Bearer <token>', this administrator token or a tenant's "
          "resourcemanager.tenant.<name>.token. A tenant sees and controls only its own jobs; "
          "cluster-wide endpoints (TaskManagers, the JobManager's config and logs, /metrics) "
          "need this token. Empty: no authentication (fine while every port is on loopback)."),
      Opt("taskmanager.rpc.port", T::kInt, "0",
          "Port of the TaskManager's RPC endpoint. 0 picks a free port, so several TaskManagers "
          "can share a host.",
          0, 65535),
      Opt("taskmanager.data.port", T::kInt, "0",
          "Port of the TaskManager's data exchange server, which other TaskManagers connect to "
          "(one TCP connection per pair carries all channels between them). 0 picks a free "
          "port.",
          0, 65535),
      Opt("taskmanager.resource-id", T::kString, "",
          "Stable identity of this TaskManager. Empty: <host>:<rpc port>. Two live TaskManagers "
          "with one id are refused; a restarted one replaces its old entry."),
      // --- TaskManager resources ------------------------------------------
      Opt("taskmanager.numberOfTaskSlots", T::kInt, "1",
          "Number of slots this TaskManager offers. Each slot gets an equal share of the "
          "TaskManager's resources.",
          1, 4096),
      Opt("taskmanager.cpu.cores", T::kDouble, "0",
          "CPU cores this TaskManager offers. 0: one core per slot.", 0, 1e6),
      Opt("taskmanager.memory.process.size", T::kMemorySize, "1728m",
          "Total memory of the TaskManager process that it offers to slots.", 16 * kMiB, 1e15),
      Opt("taskmanager.network.bandwidth", T::kMemorySize, "0",
          "Network bandwidth in bytes per second this TaskManager offers (e.g. 1250m for "
          "10 Gbit/s). 0: not declared.",
          0, 1e15),
      Opt("taskmanager.resource.<name>.amount", T::kDouble, std::nullopt,
          "Amount of an extended resource this TaskManager offers, e.g. "
          "taskmanager.resource.gpu.amount: 2. Split evenly across slots.",
          0, 1e9),
      // --- heartbeats and registration -------------------------------------
      Opt("heartbeat.interval", T::kDuration, "1 s",
          "How often TaskManagers and JobManagers send heartbeats to the ResourceManager. Flink "
          "uses 10 s; a heartbeat is one small message on an open stream, so 1 s costs little "
          "(see BENCHMARKS.md) and lets a silent TaskManager be found in seconds.",
          10 * kMs, 3600 * kSecond),
      Opt("heartbeat.timeout", T::kDuration, "5 s",
          "Silence after which a peer is declared lost (a paused process, a network partition). "
          "A killed process is detected at once from its broken stream, whatever this says. "
          "Flink uses 50 s to ride out JVM garbage-collection pauses; Sluice has no GC, so 5 s "
          "(five missed heartbeats) suffices. Must be greater than heartbeat.interval.",
          50 * kMs, 86400 * kSecond),
      Opt("cluster.registration.initial-timeout", T::kDuration, "100 ms",
          "First delay before retrying a failed registration; it doubles on each failure.", 1 * kMs,
          3600 * kSecond),
      Opt("cluster.registration.max-timeout", T::kDuration, "2 s",
          "Cap on the registration retry delay, so a returning ResourceManager is found quickly.",
          1 * kMs, 3600 * kSecond),
      Opt("cluster.registration.refused-registration-delay", T::kDuration, "2 s",
          "Delay before retrying a registration the ResourceManager refused (e.g. a duplicate "
          "TaskManager id).",
          1 * kMs, 3600 * kSecond),
      Opt("rpc.timeout", T::kDuration, "10 s",
          "Deadline of every request/response RPC (Flink: pekko.ask.timeout).", 1 * kMs,
          3600 * kSecond),
      // --- slot allocation and sharing ---------------------------------------
      Opt("resourcemanager.scheduler", T::kString, "fair",
          "Who gets free slots first when demand exceeds supply: fifo (declaration order), "
          "fair (weighted Dominant Resource Fairness across tenants, then across a tenant's "
          "jobs) or priority (higher job priority first, FIFO within a level).")
          .OneOf({"fifo", "fair", "priority"}),
      Opt("resourcemanager.scheduler.preemption", T::kBool, "false",
          "With the priority scheduler: a waiting job may take slots from running jobs of "
          "strictly lower priority, lowest first; their JobMasters are told which slots they "
          "lose and why."),
      Opt("resourcemanager.slot-placement", T::kString, "spread",
          "Which TaskManager a slot comes from: spread (the one with the most free slots, so "
          "load spreads evenly) or pack (the most used one, so whole TaskManagers stay free). "
          "A job may override it.")
          .OneOf({"spread", "pack"}),
      Opt("resourcemanager.reserved-slots", T::kInt, "0",
          "Slots kept out of ordinary allocation for jobs with a priority of at least "
          "resourcemanager.reserved-slots.min-priority.",
          0, 1e7),
      Opt("resourcemanager.reserved-slots.min-priority", T::kInt, "100",
          "Lowest job priority that may use the reserved slots.", -1e9, 1e9),
      Opt("slot.request.timeout", T::kDuration, "5 min",
          "How long a job's slot request may wait before it fails with an explanation (which "
          "profile, how many missing, what the cluster has, whether a quota is the cause).",
          1 * kMs, 86400 * kSecond),
      Opt("resourcemanager.job.timeout", T::kDuration, "1 min",
          "How long a job keeps its slots after its JobManager disconnects; re-declaring within "
          "it keeps them. Flink uses 5 min; a shorter wait returns slots sooner.",
          1 * kMs, 86400 * kSecond),
      Opt("resourcemanager.taskmanager.max-slots", T::kInt, "4096",
          "Most slots one TaskManager may announce; a registration with more is refused, so "
          "a forged or misconfigured TaskManager cannot claim the cluster's placement.",
          1, 1000000),
      Opt("resourcemanager.tenant.<name>.weight", T::kDouble, std::nullopt,
          "Weight of tenant <name> in fair sharing (default 1). Defining any "
          "resourcemanager.tenant.<name>.* key defines the tenant; the tenant 'default' always "
          "exists.",
          0.001, 1e6),
      Opt("resourcemanager.tenant.<name>.token", T::kString, std::nullopt,
          "Access token a JobManager must present to act for tenant <name> (default: none "
          "required)."),
      Opt("resourcemanager.tenant.<name>.max-slots", T::kInt, std::nullopt,
          "Quota: most slots tenant <name> may hold at once (default: unlimited).", 0, 1e9),
      Opt("resourcemanager.tenant.<name>.max-cpu", T::kDouble, std::nullopt,
          "Quota: most CPU cores tenant <name> may hold at once (default: unlimited).", 0, 1e9),
      Opt("resourcemanager.tenant.<name>.max-memory", T::kMemorySize, std::nullopt,
          "Quota: most memory tenant <name> may hold at once (default: unlimited).", 0, 1e18),
      Opt("taskmanager.tenant", T::kString, "",
          "Dedicates this TaskManager to one tenant: only that tenant's jobs get its slots. "
          "Empty: shared."),
      Opt("taskmanager.work-dir", T::kString, "",
          "Where the TaskManager caches job libraries fetched from the JobManager (and, with "
          "taskmanager.isolation: process, its job processes' sockets). Empty: "
          "/tmp/sluice-taskmanager-<pid>, removed when the TaskManager stops (and, if it was "
          "killed, when the next one starts). A configured directory is kept."),
      Opt("taskmanager.network.buffers-per-channel", T::kInt, "2",
          "Buffers (of taskmanager.memory.segment-size each) a channel may have in flight: the "
          "credits a receiver grants. Bounds memory per channel; more buffers absorb bursts.",
          1, 1024),
      Opt("taskmanager.memory.segment-size", T::kMemorySize, "32kb",
          "Size of the network buffers records are framed into between subtasks (Flink's key). "
          "The runtime owns the buffers, so job libraries need not be rebuilt when it changes.",
          4096, 16 * kMiB),
      Opt("parallelism.default", T::kInt, "-1",
          "The parallelism of a job submitted without `-p` (Flink's key; per job with `sluice run "
          "-D parallelism.default=4`). -1: the job's own, 1 unless its code sets one.",
          -1, 32768),
      Opt("pipeline.max-parallelism", T::kInt, "-1",
          "Key groups of every keyed operator: the most subtasks its state can be rescaled to. "
          "-1: per operator, 128 or 1.5 x its parallelism rounded up to a power of two (at most "
          "32768), as in Flink; an operator's SetMaxParallelism wins. Travels with the job "
          "(`sluice run -D pipeline.max-parallelism=256`). Changing it makes saved keyed state "
          "unusable.",
          -1, 32768),
      Opt("execution.buffer-timeout", T::kDuration, "100 ms",
          "How long a partly filled output buffer may wait before it is sent: lower means less "
          "latency, higher means more throughput. 0 sends every record on its own, at a high cost "
          "per record. A job gets the value of the client that submitted it "
          "(`sluice run -D execution.buffer-timeout=5ms`); the TaskManagers' own applies to "
          "jobs submitted without one.",
          0, 3600 * kSecond),
      Opt("pipeline.auto-watermark-interval", T::kDuration, "200 ms",
          "How often watermark generators (WatermarkStrategy) emit their watermark, as Flink's "
          "key of this name. Lower means windows and event-time timers fire sooner after their "
          "time, at some cost per emission. A job gets the value of the client that submitted "
          "it (`sluice run -D pipeline.auto-watermark-interval=50ms`); the TaskManagers' own "
          "applies to jobs submitted without one.",
          1 * kMs, 3600 * kSecond),
      Opt("taskmanager.isolation", T::kString, "process",
          "Where a TaskManager runs a job's tasks. process (the default): one sluice-job-process "
          "per job on each TaskManager, so that a segfault, abort() or exit() in one job's code "
          "fails only that job (named with the signal and the task), its memory is limited to "
          "its slots' (RLIMIT_DATA) and freed when it ends, and tasks that ignore cancellation "
          "are killed after task.cancellation.timeout; it costs no measurable throughput "
          "(BENCHMARKS.md). shared: threads of the TaskManager process, as before: a crash in "
          "one job's code ends the TaskManager and every job on it. Every TaskManager of a "
          "cluster must use the same mode.")
          .OneOf({"shared", "process"}),
      Opt("task.cancellation.timeout", T::kDuration, "180 s",
          "How long a cancelled task may take to stop (Flink's key) before, with "
          "taskmanager.isolation: process, its job process is killed and its slots are free "
          "again. With shared isolation a task that ignores cancellation is logged and keeps "
          "its thread.",
          1 * kMs, 24 * 3600 * kSecond),
      Opt("taskmanager.slot.timeout", T::kDuration, "10 s",
          "How long a TaskManager keeps a slot it offered to a JobMaster that never accepted "
          "it, before freeing it.",
          1 * kMs, 3600 * kSecond),
      // --- observability ----------------------------------------------------
      Opt("metrics.reporter.prom.port", T::kPortRange, "9249-9260",
          "Port, or range of ports, on which the ResourceManager and each TaskManager serve "
          "Prometheus metrics at /metrics; each takes the first free port of the range. The "
          "JobManager serves its metrics on rest.port.",
          0, 65535),
      // --- checkpointing (Flink's keys and defaults) -----------------------
      Opt("execution.checkpointing.interval", T::kDuration, std::nullopt,
          "How often a checkpoint is started. Unset: checkpointing is off (and a failure ends "
          "the job unless restart-strategy.type says otherwise).",
          10 * kMs, 365 * 24 * 3600 * kSecond)
          .MayBeUnset(),
      Opt("execution.checkpointing.mode", T::kString, "EXACTLY_ONCE",
          "EXACTLY_ONCE aligns barriers, so every record is in exactly one checkpoint; "
          "AT_LEAST_ONCE lets records pass a channel whose barrier arrived, so some are replayed "
          "after a restore.")
          .OneOf({"EXACTLY_ONCE", "AT_LEAST_ONCE"}),
      Opt("execution.checkpointing.timeout", T::kDuration, "10 min",
          "A checkpoint not complete this long after it started is expired (failed).", 10 * kMs,
          365 * 24 * 3600 * kSecond),
      Opt("execution.checkpointing.min-pause", T::kDuration, "0 ms",
          "Least time between the end of one checkpoint and the start of the next.", 0,
          365 * 24 * 3600 * kSecond),
      Opt("execution.checkpointing.max-concurrent-checkpoints", T::kInt, "1",
          "Checkpoints that may be in progress at once.", 1, 1000),
      Opt("execution.checkpointing.tolerable-failed-checkpoints", T::kInt, "0",
          "Consecutive failed checkpoints (expired, or failed to be written) the job tolerates; "
          "one more fails the job over to its latest completed checkpoint.",
          0, 2147483647),
      Opt("execution.checkpointing.num-retained", T::kInt, "1",
          "Completed checkpoints kept; older ones are subsumed and deleted.", 1, 1000000)
          .Aliases({"state.checkpoints.num-retained"}),
      Opt("execution.checkpointing.externalized-checkpoint-retention", T::kString,
          "NO_EXTERNALIZED_CHECKPOINTS",
          "What a job keeps of its checkpoints when it ends, for a resume with `sluice run -s`: "
          "nothing (NO_EXTERNALIZED_CHECKPOINTS), the latest only when it failed "
          "(DELETE_ON_CANCELLATION), or the latest whether it failed, was cancelled or finished "
          "(RETAIN_ON_CANCELLATION), as in Flink.")
          .OneOf(
              {"NO_EXTERNALIZED_CHECKPOINTS", "DELETE_ON_CANCELLATION", "RETAIN_ON_CANCELLATION"}),
      Opt("execution.checkpointing.unaligned.enabled", T::kBool, "false",
          "Barriers overtake the buffers queued in front of them, which are then stored with the "
          "checkpoint and replayed first on restore: checkpoints complete quickly under "
          "backpressure. Needs EXACTLY_ONCE and max-concurrent-checkpoints 1. A checkpoint "
          "holding such buffers restores only at the same parallelism; savepoints stay aligned.")
          .Aliases({"execution.checkpointing.unaligned"}),
      Opt("execution.checkpointing.aligned-checkpoint-timeout", T::kDuration, "0 s",
          "With unaligned checkpoints on: 0 starts every checkpoint unaligned; more starts it "
          "aligned, and the tasks it has not passed yet go unaligned once it took this long.",
          0, 365 * 24 * 3600 * kSecond)
          .Aliases({"execution.checkpointing.alignment-timeout"}),
      Opt("execution.checkpointing.dir", T::kString, std::nullopt,
          "Where checkpoints go: <dir>/<job id>/chk-<n>/_metadata. A local directory on a single "
          "machine; on a cluster a mount every TaskManager and the JobManager share. Needed when "
          "checkpointing is on.")
          .Aliases({"state.checkpoints.dir"})
          .MayBeUnset(),
      Opt("execution.checkpointing.savepoint-dir", T::kString, std::nullopt,
          "Where savepoints go unless the command names a directory.")
          .Aliases({"state.savepoints.dir"})
          .MayBeUnset(),
      // --- restarts (Flink's keys and defaults) ---------------------------
      Opt("restart-strategy.type", T::kString, std::nullopt,
          "How a failed job restarts from its latest checkpoint. Unset: exponential-delay when "
          "checkpointing is on, none otherwise (as in Flink).")
          .OneOf({"none", "off", "disable", "fixed-delay", "failure-rate", "exponential-delay"})
          .MayBeUnset(),
      Opt("restart-strategy.fixed-delay.attempts", T::kInt, "1",
          "fixed-delay: restarts before the job fails for good.", 0, 2147483647),
      Opt("restart-strategy.fixed-delay.delay", T::kDuration, "1 s",
          "fixed-delay: wait before each restart.", 0, 365 * 24 * 3600 * kSecond),
      Opt("restart-strategy.failure-rate.max-failures-per-interval", T::kInt, "1",
          "failure-rate: restarts allowed within one failure-rate-interval.", 1, 2147483647),
      Opt("restart-strategy.failure-rate.failure-rate-interval", T::kDuration, "1 min",
          "failure-rate: the window failures are counted in.", 1 * kMs, 365 * 24 * 3600 * kSecond),
      Opt("restart-strategy.failure-rate.delay", T::kDuration, "1 s",
          "failure-rate: wait before each restart.", 0, 365 * 24 * 3600 * kSecond),
      Opt("restart-strategy.exponential-delay.initial-backoff", T::kDuration, "1 s",
          "exponential-delay: wait before the first restart.", 0, 365 * 24 * 3600 * kSecond),
      Opt("restart-strategy.exponential-delay.max-backoff", T::kDuration, "1 min",
          "exponential-delay: the longest wait.", 0, 365 * 24 * 3600 * kSecond),
      Opt("restart-strategy.exponential-delay.backoff-multiplier", T::kDouble, "1.5",
          "exponential-delay: each wait is the previous one times this.", 1, 1000),
      Opt("restart-strategy.exponential-delay.reset-backoff-threshold", T::kDuration, "1 h",
          "exponential-delay: a job that ran this long without failing starts again from the "
          "initial backoff.",
          1 * kMs, 365 * 24 * 3600 * kSecond),
      Opt("restart-strategy.exponential-delay.jitter-factor", T::kDouble, "0.1",
          "exponential-delay: each wait moves randomly by up to this fraction, so that jobs "
          "failing together do not restart together.",
          0, 1),
      Opt("restart-strategy.exponential-delay.attempts-before-reset-backoff", T::kInt, "2147483647",
          "exponential-delay: restarts before the job fails for good, counted since the last "
          "reset (the default: unlimited).",
          0, 2147483647),
      Opt("log.level", T::kString, "info", "Log level of the daemons.")
          .OneOf({"trace", "debug", "info", "warn", "error"}),
  };
}

bool KeyMatches(absl::string_view pattern, absl::string_view key) {
  if (!absl::StrContains(pattern, "<")) return pattern == key;
  std::vector<absl::string_view> p = absl::StrSplit(pattern, '.');
  std::vector<absl::string_view> k = absl::StrSplit(key, '.');
  if (p.size() != k.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    bool wildcard = absl::StartsWith(p[i], "<") && absl::EndsWith(p[i], ">");
    if (wildcard ? k[i].empty() : p[i] != k[i]) return false;
  }
  return true;
}

std::string MarkdownCell(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"|", "\\|"}});
}

}  // namespace

const std::vector<ConfigOption>& AllConfigOptions() {
  static const auto* options = new std::vector<ConfigOption>(BuildOptions());
  return *options;
}

const ConfigOption* FindConfigOption(absl::string_view key) {
  for (const auto& option : AllConfigOptions()) {
    if (KeyMatches(option.key, key)) return &option;
  }
  return nullptr;
}

const ConfigOption* FindConfigOptionByAlias(absl::string_view key) {
  for (const auto& option : AllConfigOptions()) {
    for (const auto& alias : option.aliases) {
      if (alias == key) return &option;
    }
  }
  return nullptr;
}

absl::string_view OptionTypeName(OptionType type) {
  switch (type) {
    case OptionType::kString:
      return "string";
    case OptionType::kInt:
      return "integer";
    case OptionType::kDouble:
      return "number";
    case OptionType::kBool:
      return "boolean";
    case OptionType::kDuration:
      return "duration";
    case OptionType::kMemorySize:
      return "memory size";
    case OptionType::kPortRange:
      return "port range";
  }
  return "unknown";
}

std::string RenderConfigReference() {
  std::string out =
      "# Configuration reference\n\n"
      "<!-- Generated by `sluice config docs`; tests/unit/config_docs_test.cc fails when this "
      "file and the code disagree. -->\n\n"
      "Keys go in `conf/sluice.yaml`, flat (`heartbeat.interval: 1 s`) or nested, and can be "
      "overridden on any daemon's command line with `-D key=value`. Durations take a unit "
      "(`ms`, `s`, `min`, `h`, `d`; a bare number is milliseconds); memory sizes take `k`, "
      "`m`, `g`, `t` (a bare number is bytes). Unknown keys are reported as warnings; a bad "
      "value or a missing required key stops the daemon with an error naming the key.\n\n"
      "| Key | Type | Default | Description |\n|---|---|---|---|\n";
  for (const auto& o : AllConfigOptions()) {
    std::string def =
        o.required ? "**required**"
                   : (o.default_value ? absl::StrCat("`", *o.default_value, "`") : "(unset)");
    std::string desc = o.description;
    if (!o.allowed.empty())
      absl::StrAppend(&desc, " One of: ", absl::StrJoin(o.allowed, ", "), ".");
    if (!o.aliases.empty()) {
      absl::StrAppend(&desc, " Also accepted (older name): ", absl::StrJoin(o.aliases, ", "), ".");
    }
    absl::StrAppend(&out, "| `", o.key, "` | ", OptionTypeName(o.type), " | ", def, " | ",
                    MarkdownCell(desc), " |\n");
  }
  return out;
}

}  // namespace sluice
