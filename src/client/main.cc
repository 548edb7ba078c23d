// sluice: the command-line client.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cluster_client.h"
#include "client/credentials.h"
#include "client/job_commands.h"
#include "client/jobmanager_address.h"
#include "client/status_format.h"
#include "common/config/config_options.h"
#include "common/config/job_config_keys.h"
#include "common/daemon.h"
#include "common/rpc/grpc_server.h"

namespace sluice {
namespace {

struct ClusterStatusArgs {
  std::string target;
  std::string output = "table";
  std::string conf_dir;
  std::vector<std::string> overrides;
};

// The client's configuration: conf/sluice.yaml (or --conf-dir,
// SLUICE_CONF_DIR) with -D overrides, or nullopt after printing why not.
// Without a configuration directory named and none in ./conf, the defaults
// apply (JobManager on localhost): a job library can run anywhere.
std::optional<Config> ClientConfig(const std::string& conf_dir,
                                   const std::vector<std::string>& overrides) {
  const CommandLine command_line{conf_dir, overrides, false};
  const bool named = !conf_dir.empty() || std::getenv("SLUICE_CONF_DIR") != nullptr;
  auto config = named || std::filesystem::exists(ResolveConfDir(command_line) + "/sluice.yaml")
                    ? LoadConfig(command_line)
                    : Config::FromYaml(
                          "jobmanager.rpc.address: localhost\n"
                          "resourcemanager.rpc.address: localhost\n",
                          "defaults", overrides);
  if (!config.ok()) {
    std::cerr << "sluice: configuration error: " << config.status().message() << "\n";
    return std::nullopt;
  }
  for (const std::string& warning : config->warnings()) {  // a mistyped -D key, say
    if (warning.rfind("-D ", 0) == 0) std::cerr << "sluice: warning: " << warning << "\n";
  }
  return *std::move(config);
}

// -p: a short message for 0 or a negative number instead of CLI11's range error.
CLI::Validator ParallelismValidator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        int parallelism = 0;
        if (absl::SimpleAtoi(value, &parallelism) && parallelism >= 1) return "";
        return "the parallelism must be at least 1, got '" + value + "'";
      },
      "N>=1");
}

std::string JobManagerAddress(const Config& config) {
  return HostPort(config.GetString("jobmanager.rpc.address"),
                  static_cast<int>(config.GetInt("jobmanager.rpc.port")));
}

// The job's settings from the configuration, and the JobManager's address
// unless -m gave it; false after printing why not.
bool ConfigureJob(const std::string& conf_dir, const std::vector<std::string>& overrides,
                  JobCommand* command) {
  auto config = ClientConfig(conf_dir, overrides);
  if (!config) return false;
  command->buffer_timeout = config->GetDuration("execution.buffer-timeout");
  command->auto_watermark_interval = config->GetDuration("pipeline.auto-watermark-interval");
  const int64_t max_parallelism = config->GetInt("pipeline.max-parallelism");
  command->max_parallelism = max_parallelism > 0 ? static_cast<int>(max_parallelism) : 0;
  if (const int64_t parallelism = config->GetInt("parallelism.default");
      command->parallelism == 0 && parallelism > 0) {
    command->parallelism = static_cast<int>(parallelism);  // -p wins
  }
  command->segment_size =
      static_cast<size_t>(config->GetMemoryBytes("taskmanager.memory.segment-size"));
  command->target =
      command->target.empty() ? JobManagerAddress(*config) : ResolveJobManager(command->target);
  command->job_config = JobConfigOverrides(overrides);
  return true;
}

int RunClusterStatus(const ClusterStatusArgs& args) {
  std::string target = args.target;
  absl::Duration timeout = absl::Seconds(10);
  if (target.empty() || !args.overrides.empty()) {
    auto config = ClientConfig(args.conf_dir, args.overrides);
    if (!config) return 1;
    timeout = config->GetDuration("rpc.timeout");
    if (target.empty()) target = JobManagerAddress(*config);
  }
  target = ResolveJobManager(target);
  auto status = FetchClusterStatus(target, timeout);
  if (!status.ok()) {
    std::cerr << "sluice: " << status.status().message() << "\n";
    return 1;
  }
  std::cout << (args.output == "json" ? FormatStatusJson(*status) + "\n"
                                      : FormatStatusTable(*status));
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  CLI::App app{"sluice: submit and control Sluice jobs, inspect the cluster"};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(1);
  std::string token;
  app.add_option("--token", token,
                 "Token for a JobManager that authenticates clients (security.admin-token or a "
                 "tenant's); default: $SLUICE_TOKEN");

  sluice::ClusterStatusArgs status_args;
  auto* cluster = app.add_subcommand("cluster", "Inspect the cluster");
  cluster->require_subcommand(1);
  auto* status = cluster->add_subcommand("status", "TaskManagers, slots, resources, heartbeats");
  status->add_option("-m,--jobmanager", status_args.target,
                     "host:port of the JobManager or ResourceManager (default: "
                     "jobmanager.rpc.address:jobmanager.rpc.port from the config)");
  status->add_option("--output,-o", status_args.output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  status->add_option("--conf-dir", status_args.conf_dir,
                     "Directory holding sluice.yaml (default: $SLUICE_CONF_DIR, else ./conf)");
  status->add_option("-D", status_args.overrides, "Override a configuration key: -D key=value");

  auto* config_cmd = app.add_subcommand("config", "Configuration tools");
  config_cmd->require_subcommand(1);
  auto* docs = config_cmd->add_subcommand("docs", "Print the configuration reference (Markdown)");
  // For scripts (monitoring/generate-prometheus-config.sh): a key's value with
  // the defaults applied, whatever the YAML's layout.
  auto* get = config_cmd->add_subcommand("get", "Print a configuration key's value");
  std::string get_conf_dir;
  std::string get_key;
  get->add_option("key", get_key, "The key, e.g. rest.port")->required();
  get->add_option("--conf-dir", get_conf_dir,
                  "Directory holding sluice.yaml (default: $SLUICE_CONF_DIR, else ./conf)");

  sluice::JobCommand job_command;
  bool local = false;
  auto* run = app.add_subcommand("run", "Run a job from a job library");
  run->add_option("-c,--class", job_command.job, "Name of the job in the library")->required();
  run->add_option("-p,--parallelism", job_command.parallelism, "Default parallelism")
      ->check(sluice::ParallelismValidator());
  run->add_flag("--local", local, "Run in this process (a MiniCluster) instead of on a cluster");
  run->add_option("-m,--jobmanager", job_command.target,
                  "host:port of the JobManager (default: from the config)");
  run->add_flag("-d,--detached", job_command.detached, "Return once the job is submitted");
  run->add_option("--tenant", job_command.tenant, "Tenant the job runs for");
  run->add_option("--token", job_command.token, "The tenant's access token");
  run->add_option("--priority", job_command.priority, "Job priority (higher first)");
  run->add_option("-s,--fromSavepoint", job_command.restore_path,
                  "Resume from a checkpoint or savepoint: its directory or _metadata file");
  run->add_flag("-n,--allow-non-restored-state,--allowNonRestoredState",
                job_command.allow_non_restored_state,
                "Resume even if some saved state belongs to no operator of the job");
  run->add_option("--num-taskmanagers", job_command.num_task_managers,
                  "Spread the job over at least this many TaskManagers")
      ->check(CLI::NonNegativeNumber);
  std::string conf_dir;
  std::vector<std::string> overrides;
  run->add_option("--conf-dir", conf_dir, "Directory holding sluice.yaml");
  run->add_option("-D", overrides, "Override a configuration key: -D key=value");

  std::string list_target, cancel_target, cancel_id;
  sluice::ListFilter list_filter;
  auto* list = app.add_subcommand("list", "Running and scheduled jobs (-a: ended ones too)");
  list->add_option("-m,--jobmanager", list_target, "host:port of the JobManager");
  list->add_flag("-r,--running", list_filter.running, "Only running and restarting jobs");
  list->add_flag("-s,--scheduled", list_filter.scheduled, "Only scheduled jobs");
  list->add_flag("-a,--all", list_filter.all, "All jobs, ended ones included");
  auto* cancel = app.add_subcommand("cancel", "Cancel a job");
  cancel->add_option("-m,--jobmanager", cancel_target, "host:port of the JobManager");
  sluice::SavepointCommand savepoint_command;
  std::string savepoint_target;
  auto* savepoint = app.add_subcommand("savepoint", "Take a savepoint of a running job");
  savepoint->add_option("job-id", savepoint_command.job_id, "The job's id")->required();
  savepoint->add_option("directory", savepoint_command.directory,
                        "Where it goes (default: execution.checkpointing.savepoint-dir)");
  auto* stop = app.add_subcommand("stop", "Stop a job with a savepoint (resume with run -s)");
  stop->add_option("job-id", savepoint_command.job_id, "The job's id")->required();
  stop->add_option("-p,--savepoint-path", savepoint_command.directory,
                   "Where the savepoint goes (default: execution.checkpointing.savepoint-dir)");
  stop->add_flag("-d,--drain", savepoint_command.drain,
                 "End the sources' input after the savepoint, so that windows and timers fire "
                 "(for a job that is not resumed)");
  for (auto* command : {savepoint, stop}) {
    command->add_option("-m,--jobmanager", savepoint_target, "host:port of the JobManager");
  }
  for (auto* command : {list, cancel, savepoint, stop}) {
    command->add_option("--conf-dir", conf_dir, "Directory holding sluice.yaml");
    command->add_option("-D", overrides, "Override a configuration key: -D key=value");
  }
  cancel->add_option("job-id", cancel_id, "The job's id")->required();
  run->add_option("library", job_command.library, "The job library (.so)")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("args", job_command.args, "Arguments for the job, after --");
  auto* info = app.add_subcommand("info", "Print a job's plan: vertices, chaining, partitioning");
  info->add_option("-c,--class", job_command.job, "Name of the job in the library")->required();
  info->add_option("-p,--parallelism", job_command.parallelism, "Default parallelism")
      ->check(sluice::ParallelismValidator());
  info->add_option("library", job_command.library, "The job library (.so)")
      ->required()
      ->check(CLI::ExistingFile);
  info->add_option("args", job_command.args, "Arguments for the job, after --");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version exit 0; every bad command line exits 1, as every error.
    return app.exit(e) == 0 ? 0 : 1;
  }
  // A tenant's token (run --token) also authenticates it to the JobManager.
  sluice::SetClientToken(token.empty() ? job_command.token : token);
  if (status->parsed()) return sluice::RunClusterStatus(status_args);
  if (info->parsed()) return sluice::PrintPlan(job_command, std::cout, std::cerr);
  if (run->parsed()) {
    if (!sluice::ConfigureJob(conf_dir, overrides, &job_command)) return 1;
    if (local && !job_command.restore_path.empty()) {
      std::cerr << "sluice run: -s (resume) needs a cluster; --local cannot resume yet\n";
      return 2;
    }
    if (local) return sluice::RunLocal(job_command, std::cout, std::cerr);
    return sluice::RunOnCluster(job_command, std::cout, std::cerr);
  }
  if (savepoint->parsed() || stop->parsed()) {
    savepoint_command.stop = stop->parsed();
    auto config = sluice::ClientConfig(conf_dir, overrides);
    if (!config) return 1;
    savepoint_target = savepoint_target.empty() ? sluice::JobManagerAddress(*config)
                                                : sluice::ResolveJobManager(savepoint_target);
    savepoint_command.timeout =
        config->GetDuration("execution.checkpointing.timeout") + absl::Seconds(30);
    return sluice::TriggerSavepoint(savepoint_target, savepoint_command, std::cout, std::cerr);
  }
  if (list->parsed() || cancel->parsed()) {
    std::string target = list->parsed() ? list_target : cancel_target;
    if (target.empty()) {
      auto config = sluice::ClientConfig(conf_dir, overrides);
      if (!config) return 1;
      target = sluice::JobManagerAddress(*config);
    }
    target = sluice::ResolveJobManager(target);
    return list->parsed() ? sluice::ListJobs(target, list_filter, std::cout, std::cerr)
                          : sluice::CancelJob(target, cancel_id, std::cout, std::cerr);
  }
  if (docs->parsed()) {
    std::cout << sluice::RenderConfigReference();
    return 0;
  }
  if (get->parsed()) {
    auto config = sluice::ClientConfig(get_conf_dir, {});
    if (!config) return 1;
    if (!config->Has(get_key)) {
      std::cerr << "sluice: unknown configuration key '" << get_key << "'\n";
      return 1;
    }
    std::cout << config->Format(get_key) << "\n";
    return 0;
  }
  return 2;
}
