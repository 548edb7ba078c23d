// The ResourceManager's slot allocation: which slot is held by which
// allocation of which job, what jobs still need, and who gets freed slots next
// (fifo, fair = weighted Dominant Resource Fairness across tenants then jobs,
// or priority with optional preemption), within tenant quotas, reserved slots
// and TaskManagers dedicated to a tenant.
//
// Pure and single-threaded (the ResourceManager's mailbox thread), with an
// injected clock. Every call returns what others must be told as Effects; the
// ResourceManager turns them into messages. Allocation ids make every step
// idempotent.
#ifndef SLUICE_RESOURCEMANAGER_SLOT_MANAGER_H_
#define SLUICE_RESOURCEMANAGER_SLOT_MANAGER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/resource_profile.h"
#include "common/slot.h"
#include "resourcemanager/free_slot_index.h"
#include "resourcemanager/tenants.h"

namespace sluice {

enum class SchedulerKind { kFifo, kFair, kPriority };
const char* SchedulerName(SchedulerKind kind);
std::optional<SchedulerKind> ParseScheduler(const std::string& name);
const char* PlacementName(Placement placement);
std::optional<Placement> ParsePlacement(const std::string& name);

struct SlotManagerOptions {
  SchedulerKind scheduler = SchedulerKind::kFair;
  Placement placement = Placement::kSpread;
  bool preemption = false;
  int reserved_slots = 0;
  int reserved_min_priority = 100;
  absl::Duration request_timeout = absl::Minutes(5);   // slot.request.timeout
  absl::Duration job_timeout = absl::Minutes(1);       // resourcemanager.job.timeout
  absl::Duration pending_timeout = absl::Seconds(10);  // TaskManager never answered a request
  std::string allocation_prefix = "alloc";
};

struct ResourceRequirement {
  ResourceProfile profile;  // all zero: fits any slot
  int desired = 1;
  int min = 1;  // the job can start with this many, granted together
};

// A job's whole need, stated again (absolutely) whenever it changes.
struct JobDeclaration {
  std::string job_id;
  std::string job_master;  // the JobManager that declared it, to be notified
  std::string tenant;      // empty: "default"
  std::string token;
  int priority = 0;
  std::optional<Placement> placement;
  int min_task_managers = 0;  // spread the initial slots over at least this many
  std::vector<ResourceRequirement> requirements;
};

struct SlotGrant {
  std::string allocation_id;
  std::string job_id;
  std::string tenant;
  std::string job_master;
  std::string task_manager;
  int slot_index = 0;
  ResourceProfile profile;
};

struct SlotManagerEffects {
  struct Revocation {
    SlotGrant slot;
    std::string reason;
    bool preempted = false;
  };
  struct Failure {
    std::string job_id;
    std::string job_master;
    std::string message;
  };
  std::vector<SlotGrant> requests;      // RM -> TaskManager: hand this slot to the JobMaster
  std::vector<SlotGrant> frees;         // RM -> TaskManager: free this allocation
  std::vector<Revocation> revocations;  // RM -> JobMaster: you lost this slot
  std::vector<Failure> failures;        // RM -> JobMaster: the request failed
  std::vector<absl::Duration> grant_latencies;  // declaration -> first grant, per job
  // TaskManagers that left a slot request unanswered past pending_timeout:
  // out of placement until they register again.
  std::vector<std::string> unresponsive;
};

// What a job waits for, for status and metrics.
struct WaitingRequest {
  std::string job_id;
  std::string tenant;
  int priority = 0;
  int missing_slots = 0;
  absl::Time since;
  std::string reason;  // why it could not be served the last time it was tried
};

struct TenantView {
  std::string name;
  double weight = 1;
  std::string quota;
  int slots = 0;
  ResourceProfile held;
  double dominant_share = 0;  // weighted
  int waiting_jobs = 0;
};

struct JobView {
  std::string job_id;
  std::string tenant;
  int priority = 0;
  int slots = 0;
  ResourceProfile held;
};

class SlotManager {
 public:
  SlotManager(const Clock* clock, SlotManagerOptions options, Tenants tenants);

  // TaskManagers come and go with their slots (a registration may report
  // slots already allocated: they are adopted).
  void AddTaskManager(const std::string& id, const std::string& tenant,
                      const std::vector<SlotState>& slots, SlotManagerEffects* effects);
  // The allocations a slot report shows held.
  static std::set<std::string> HeldIn(const std::vector<SlotState>& report);
  // `still_held`: allocations the TaskManager reports again at once (it
  // registered anew: its stream broke, or this ResourceManager was paused);
  // their jobs are not told they lost them.
  void RemoveTaskManager(const std::string& id, const std::string& why, SlotManagerEffects* effects,
                         const std::set<std::string>& still_held = {});
  // A heartbeat's slot report: it wins, except over requests still in flight
  // and over what a newer answer of the TaskManager (higher `version`) said.
  // Version 0: unversioned, always applied.
  void ReconcileSlotReport(const std::string& id, const std::vector<SlotState>& slots,
                           SlotManagerEffects* effects, uint64_t version = 0);

  // A job's need: PERMISSION_DENIED / NOT_FOUND for a bad tenant or token,
  // INVALID_ARGUMENT for a malformed or quota-exceeding request.
  absl::Status Declare(const JobDeclaration& declaration, SlotManagerEffects* effects);
  // The job ended: all its slots are free at once.
  void ReleaseJob(const std::string& job_id, SlotManagerEffects* effects);
  // The JobMaster freed one slot.
  void FreeSlot(const std::string& allocation_id, SlotManagerEffects* effects);
  // A JobManager's session ended: its jobs keep their slots for job_timeout
  // but wait for no more until it re-declares.
  void JobMasterLost(const std::string& job_master, SlotManagerEffects* effects);

  // The TaskManager took the slot for the allocation; `version` is its slot
  // table's version after that.
  void SlotRequestAccepted(const std::string& allocation_id, uint64_t version = 0);
  // The TaskManager's slot is held by another allocation: correct the view
  // and pick again.
  void SlotRequestRejected(const std::string& allocation_id, const std::string& occupant_job,
                           const std::string& occupant_allocation, SlotManagerEffects* effects);

  // Timeouts: requests waiting past slot.request.timeout, JobMasters gone past
  // job.timeout, slot requests the TaskManager never answered.
  void Tick(SlotManagerEffects* effects);

  // Views.
  int slots_total() const { return slots_total_; }
  int slots_free() const { return slots_free_; }
  // False for a TaskManager that left a slot request unanswered, until it
  // registers again: none of its free slots is picked.
  bool InPlacement(const std::string& tm) const { return unresponsive_.count(tm) == 0; }
  const ResourceProfile& used() const { return used_; }
  std::vector<SlotState> SlotsOf(const std::string& task_manager) const;
  std::vector<WaitingRequest> Waiting() const;
  std::vector<TenantView> TenantViews() const;
  std::vector<JobView> JobViews() const;
  const SlotManagerOptions& options() const { return options_; }

  // Checks every invariant (no slot held twice, counts and indexes agree,
  // quotas respected); returns a description of the first violation.
  std::optional<std::string> CheckInvariants() const;

 private:
  enum class Phase { kFree, kPending, kAllocated };
  struct Slot {
    ResourceProfile profile;
    int class_id = 0;
    Phase phase = Phase::kFree;
    std::string allocation;  // also set for foreign allocations we adopted
    absl::Time pending_since;
  };
  struct TaskManagerSlots {
    std::string tenant;
    std::map<int, Slot> slots;
    uint64_t report_version = 0;  // newest slot table version heard of
  };
  struct Allocation {
    std::string job;
    std::string task_manager;
    int index = 0;
    int requirement = -1;  // -1: adopted from a slot report
  };
  struct Job {
    JobDeclaration declaration;
    const Tenant* tenant = nullptr;
    uint64_t sequence = 0;
    absl::Time waiting_since;
    bool started = false;
    std::optional<absl::Time> master_lost_at;
    std::vector<int> held_per_requirement;
    std::set<std::string> allocations;
    int slots = 0;
    ResourceProfile held;
    std::string wait_reason;
  };
  struct TenantUsage {
    int slots = 0;
    ResourceProfile held;
  };
  // A tentative allocation made while planning a grant.
  struct Pick {
    std::string task_manager;
    int index;
    int requirement;
  };

  // Scheduling.
  void Schedule(SlotManagerEffects* effects);
  void ServeWaiting(SlotManagerEffects* effects);
  void HoldBackFor(const Job& job);
  int SlotsToKeepFree(const Job& job) const;
  std::vector<Job*> SchedulingOrder();
  bool TryServe(Job& job, SlotManagerEffects* effects);
  bool CannotStartYet(Job& job);
  bool PickSlots(Job& job, int requirement, int count, std::vector<Pick>& picks,
                 std::set<std::string>& used_tms);
  bool TryPreempt(Job& job, SlotManagerEffects* effects);
  double DominantShare(int slots, const ResourceProfile& held, double weight) const;

  // Slot bookkeeping.
  void Occupy(const std::string& tm, int index, const std::string& allocation, Phase phase);
  void Vacate(const std::string& tm, int index);
  void TakeOutOfPlacement(const std::string& tm, SlotManagerEffects* effects);
  void Bind(Job& job, const Pick& pick, const std::string& allocation);
  void Adopt(Job& job, const std::string& allocation);
  void Unbind(const std::string& allocation);
  SlotGrant GrantOf(const std::string& allocation) const;
  std::string NewAllocationId();
  bool Usable(const Job& job) const;
  std::string DescribeShortage(const Job& job) const;
  void DropJob(const std::string& job_id);

  const Clock* clock_;
  const SlotManagerOptions options_;
  const Tenants tenants_;
  FreeSlotIndex index_;
  // Hash maps: these are looked up on every pick; node maps keep references
  // stable while a scheduling pass holds them.
  absl::node_hash_map<std::string, TaskManagerSlots> task_managers_;
  std::set<std::string> unresponsive_;  // out of the index until they register again
  absl::node_hash_map<std::string, Allocation> allocations_;
  absl::node_hash_map<std::string, Job> jobs_;
  absl::node_hash_map<std::string, TenantUsage> tenant_usage_;
  // Allocations found in slot reports whose job has not been declared (yet).
  absl::node_hash_map<std::string, std::set<std::string>> orphans_;
  // During one scheduling pass: free slots kept for the most deserving job.
  struct HoldBack {
    std::string job;
    int slots = 0;
  } hold_back_;
  uint64_t next_sequence_ = 0;
  uint64_t next_allocation_ = 0;
  int slots_total_ = 0;
  int slots_free_ = 0;
  ResourceProfile capacity_;
  ResourceProfile used_;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_SLOT_MANAGER_H_
