#include "client/status_format.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/config/value_parsers.h"
#include "common/rpc/proto_json.h"

namespace sluice {
namespace {

using Row = std::vector<std::string>;

std::string FormatAmount(const std::string& resource, double amount) {
  if (resource == "memory") return FormatBytes(static_cast<int64_t>(amount));
  if (resource == "network") return absl::StrCat(FormatBytes(static_cast<int64_t>(amount)), "/s");
  return absl::StrFormat("%g", amount);
}

std::string RenderTable(const std::vector<Row>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i], std::string(widths[i] - row[i].size() + 2, ' '));
    }
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::vector<std::string> ExtendedNames(const v1::ClusterStatus& status) {
  std::set<std::string> names;
  for (const auto& tm : status.task_managers()) {
    for (const auto& [name, amount] : tm.total_resources().extended()) names.insert(name);
  }
  return {names.begin(), names.end()};
}

Row TaskManagerRow(const v1::TaskManagerStatus& tm, const std::vector<std::string>& extended) {
  const auto& total = tm.total_resources();
  const auto& free = tm.free_resources();
  Row row = {tm.id(), tm.rpc_address(), absl::StrCat(tm.slots_free(), "/", tm.slots_total()),
             absl::StrCat(FormatAmount("cpu", free.cpu_cores()), "/",
                          FormatAmount("cpu", total.cpu_cores())),
             absl::StrCat(FormatAmount("memory", static_cast<double>(free.memory_bytes())), "/",
                          FormatAmount("memory", static_cast<double>(total.memory_bytes())))};
  for (const auto& name : extended) {
    auto t = total.extended().find(name);
    auto f = free.extended().find(name);
    row.push_back(t == total.extended().end()
                      ? "-"
                      : absl::StrCat(FormatAmount(name, f == free.extended().end() ? 0 : f->second),
                                     "/", FormatAmount(name, t->second)));
  }
  row.push_back(absl::StrFormat("%.1fs", tm.last_heartbeat_age_seconds()));
  return row;
}

std::string TenantsTable(const v1::ClusterStatus& status) {
  std::vector<Row> rows = {
      {"TENANT", "WEIGHT", "QUOTA", "SLOTS", "CPU", "MEMORY", "WEIGHTED SHARE", "WAITING JOBS"}};
  for (const auto& t : status.tenants()) {
    rows.push_back({t.name(), absl::StrFormat("%g", t.weight()), t.quota(), absl::StrCat(t.slots()),
                    FormatAmount("cpu", t.held().cpu_cores()),
                    FormatAmount("memory", static_cast<double>(t.held().memory_bytes())),
                    absl::StrFormat("%.1f%%", t.dominant_share() * 100),
                    absl::StrCat(t.waiting_jobs())});
  }
  return absl::StrCat("Scheduler: ", status.scheduler(), "\n", RenderTable(rows));
}

std::string WaitingTable(const v1::ClusterStatus& status) {
  std::vector<Row> rows = {
      {"WAITING JOB", "TENANT", "PRIORITY", "MISSING SLOTS", "WAITING FOR", "REASON"}};
  for (const auto& w : status.waiting()) {
    rows.push_back({w.job_id(), w.tenant(), absl::StrCat(w.priority()),
                    absl::StrCat(w.missing_slots()), absl::StrFormat("%.1fs", w.waiting_seconds()),
                    w.reason().empty() ? "-" : w.reason()});
  }
  return RenderTable(rows);
}

}  // namespace

std::string FormatStatusTable(const v1::ClusterStatus& status) {
  const auto extended = ExtendedNames(status);
  Row header = {"TASKMANAGER", "ADDRESS", "SLOTS FREE/TOTAL", "CPU FREE/TOTAL",
                "MEMORY FREE/TOTAL"};
  for (const auto& name : extended) header.push_back(absl::AsciiStrToUpper(name) + " FREE/TOTAL");
  header.push_back("LAST HEARTBEAT");
  std::vector<Row> rows = {header};
  for (const auto& tm : status.task_managers()) rows.push_back(TaskManagerRow(tm, extended));

  const auto& o = status.overview();
  std::string out = RenderTable(rows);
  absl::StrAppend(&out, "\nCluster: ", o.task_managers(), " TaskManagers, ", o.slots_free(), "/",
                  o.slots_total(), " slots free, ", status.job_managers(),
                  " JobManager(s), TaskManagers lost so far: ", o.task_managers_lost_total(), "\n");
  std::vector<Row> totals = {{"RESOURCE", "USED", "CAPACITY", "UTILIZATION"}};
  for (const auto& r : o.resources()) {
    totals.push_back({r.resource(), FormatAmount(r.resource(), r.used()),
                      FormatAmount(r.resource(), r.capacity()),
                      absl::StrFormat("%.1f%%", r.utilization_percent())});
  }
  absl::StrAppend(&out, RenderTable(totals));
  absl::StrAppend(&out, "\n", TenantsTable(status));
  if (status.waiting_size() > 0) absl::StrAppend(&out, "\n", WaitingTable(status));
  return out;
}

std::string FormatStatusJson(const v1::ClusterStatus& status) { return ToJson(status, true); }

}  // namespace sluice
