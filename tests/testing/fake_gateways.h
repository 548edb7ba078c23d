// In-memory peers of a JobMaster: a ResourceManager that records
// declarations and releases, and TaskManagers that record calls and answer
// when the test says so.
#ifndef SLUICE_TESTS_TESTING_FAKE_GATEWAYS_H_
#define SLUICE_TESTS_TESTING_FAKE_GATEWAYS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "jobmanager/gateways.h"

namespace sluice::testing {

class FakeResourceManager final : public ResourceManagerGateway {
 public:
  void DeclareResources(const v1::DeclareResources& declaration) override {
    declarations.push_back(declaration);
  }
  void ReleaseJob(const std::string& job_id) override { released.push_back(job_id); }
  std::vector<v1::DeclareResources> declarations;
  std::vector<std::string> released;
};

class FakeTaskManager final : public TaskManagerGateway {
 public:
  void DeployTasks(const v1::DeployJobRequest& request, Done done) override {
    deployed.push_back(request);
    pending_deploy.push_back(std::move(done));
  }
  void StartTasks(const std::string& job_id, Done done) override {
    started.push_back(job_id);
    done(absl::OkStatus());
  }
  void CancelTasks(const std::string& job_id, const std::string& deployment_id,
                   Done done) override {
    cancelled.push_back(job_id);
    cancelled_deployments.push_back(deployment_id);
    if (hold_cancels) return pending_cancels.push_back(std::move(done));
    done(absl::OkStatus());
  }
  void TriggerCheckpoint(const v1::TriggerCheckpointRequest& request, Done done) override {
    checkpoints_triggered.push_back(request);
    done(absl::OkStatus());
  }
  void NotifyCheckpoint(const v1::NotifyCheckpointRequest& request, Done done) override {
    checkpoints_notified.push_back(request);
    done(absl::OkStatus());
  }
  // Answers while `answering` (a silent TaskManager never does).
  void Heartbeat(const v1::JobMasterHeartbeat& request, HeartbeatDone done) override {
    heartbeats.push_back(request);
    if (answering) done(heartbeat_answer);
  }
  // Answers the oldest deployment still waiting.
  void AnswerDeploy(absl::Status status) {
    Done done = std::move(pending_deploy.front());
    pending_deploy.erase(pending_deploy.begin());
    done(std::move(status));
  }
  std::vector<v1::DeployJobRequest> deployed;
  std::vector<Done> pending_deploy;
  std::vector<std::string> started;
  std::vector<std::string> cancelled;
  std::vector<std::string> cancelled_deployments;  // "" for every deployment
  bool hold_cancels = false;                       // answered by the test, through pending_cancels
  std::vector<Done> pending_cancels;
  std::vector<v1::TriggerCheckpointRequest> checkpoints_triggered;
  std::vector<v1::NotifyCheckpointRequest> checkpoints_notified;
  std::vector<v1::JobMasterHeartbeat> heartbeats;
  v1::JobMasterHeartbeatAnswer heartbeat_answer;  // what heartbeats are answered with
  bool answering = true;
};

// TaskManagers by address.
class FakeTaskManagers {
 public:
  FakeTaskManager& operator[](const std::string& address) {
    auto& tm = by_address_[address];
    if (!tm) tm = std::make_unique<FakeTaskManager>();
    return *tm;
  }
  TaskManagerGateways gateways() {
    return [this](const std::string& address) -> TaskManagerGateway* { return &(*this)[address]; };
  }

 private:
  std::map<std::string, std::unique_ptr<FakeTaskManager>> by_address_;
};

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_TESTING_FAKE_GATEWAYS_H_
