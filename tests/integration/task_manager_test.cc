// A real TaskManager on loopback, with the test playing its peers over real
// gRPC: a ResourceManager that registers it and asks for slots, and a
// JobManager whose library download the test holds, and whose JobMaster
// accepts the offers and records the task reports. Every wait is bounded by
// a deadline; nothing asserts on timing.
#include "taskmanager/task_manager.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/rpc/grpc_server.h"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"
#include "sluice/v1/taskmanager.grpc.pb.h"
#include "tests/testing/test_cluster.h"
#include "tests/testing/test_job_deployment.h"

namespace sluice {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::LoopbackConfig;
using testing::WaitFor;

// Accepts the TaskManager's registration, acks its heartbeats, and sends
// what the test says on its session.
class FakeResourceManager final : public v1::ResourceManager::Service {
 public:
  grpc::Status TaskManagerSession(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::ResourceManagerMessage, v1::TaskManagerMessage>* stream)
      override {
    for (v1::TaskManagerMessage in; stream->Read(&in);) {
      v1::ResourceManagerMessage out;
      absl::MutexLock lock(&mu_);
      if (in.has_register_()) {
        out.mutable_accepted()->set_registration_id("registration-1");
        stream->Write(out);
        stream_ = stream;
      } else if (in.has_heartbeat()) {
        out.mutable_ack()->set_sequence(in.heartbeat().sequence());
        stream->Write(out);
      }
    }
    absl::MutexLock lock(&mu_);
    stream_ = nullptr;
    return grpc::Status::OK;
  }

  bool registered() {
    absl::MutexLock lock(&mu_);
    return stream_ != nullptr;
  }
  bool Send(const v1::ResourceManagerMessage& message) {
    absl::MutexLock lock(&mu_);
    return stream_ != nullptr && stream_->Write(message);
  }

 private:
  absl::Mutex mu_;
  grpc::ServerReaderWriter<v1::ResourceManagerMessage, v1::TaskManagerMessage>* stream_
      ABSL_GUARDED_BY(mu_) = nullptr;
};

// Serves the test jobs library once the test releases the download.
class FakeLibraryServer final : public v1::JobManager::Service {
 public:
  grpc::Status FetchLibrary(grpc::ServerContext* context, const v1::FetchLibraryRequest*,
                            grpc::ServerWriter<v1::LibraryChunk>* writer) override {
    absl::MutexLock lock(&mu_);
    ++fetches_;
    // Bounded, so a broken test cannot hang the server's shutdown.
    mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Seconds(60));
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    // In chunks of 1 MiB, as the JobManager sends it: one message would pass
    // gRPC's 4 MiB limit once the library grows.
    const std::string bytes = testing::ReadFile(testing::kTestJobsLibrary);
    for (size_t at = 0; at < bytes.size(); at += 1 << 20) {
      v1::LibraryChunk chunk;
      chunk.set_data(bytes.substr(at, 1 << 20));
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  // Waits (bounded) until a download has begun.
  bool AwaitFetch() {
    absl::MutexLock lock(&mu_);
    auto begun = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return fetches_ > 0; };
    return mu_.AwaitWithTimeout(absl::Condition(&begun), absl::Seconds(30));
  }

 private:
  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

// Accepts every offer and records the task reports.
class FakeJobMaster final : public v1::JobMasterService::Service {
 public:
  grpc::Status OfferSlots(grpc::ServerContext*, const v1::OfferSlotsRequest* request,
                          v1::OfferSlotsResponse* response) override {
    absl::MutexLock lock(&mu_);
    for (const auto& offer : request->offers()) {
      response->add_accepted_allocation_ids(offer.allocation_id());
      offered_.push_back(offer.allocation_id());
    }
    return grpc::Status::OK;
  }
  grpc::Status UpdateTaskState(grpc::ServerContext*, const v1::TaskStateUpdate* update,
                               v1::TaskStateAck*) override {
    absl::MutexLock lock(&mu_);
    reports_.push_back(*update);
    return grpc::Status::OK;
  }
  int offers() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(offered_.size());
  }
  std::vector<v1::TaskStateUpdate> Reports(v1::ExecutionState state) {
    absl::MutexLock lock(&mu_);
    std::vector<v1::TaskStateUpdate> out;
    for (const auto& r : reports_) {
      if (r.state() == state) out.push_back(r);
    }
    return out;
  }
  int reports() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(reports_.size());
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> offered_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::TaskStateUpdate> reports_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<grpc::ClientContext> WithDeadline(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

class TaskManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto peers = StartGrpcServer("127.0.0.1", 0, {&rm_, &library_, &job_master_});
    ASSERT_TRUE(peers.ok()) << peers.status();
    peers_ = std::move(*peers);
    peer_address_ = absl::StrCat("127.0.0.1:", peers_.port);
    work_dir_ = absl::StrCat(::testing::TempDir(), "/task_manager_test-", getpid(), "-",
                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(work_dir_);  // no library cached from before
    auto tm = TaskManager::Start(LoopbackConfig(
        {absl::StrCat("resourcemanager.rpc.port=", peers_.port), "taskmanager.numberOfTaskSlots=2",
         absl::StrCat("taskmanager.work-dir=", work_dir_)}));
    ASSERT_TRUE(tm.ok()) << tm.status();
    tm_ = std::move(*tm);
    stub_ = v1::TaskExecutor::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", tm_->rpc_port()), grpc::InsecureChannelCredentials()));
    ASSERT_TRUE(WaitFor([this] { return rm_.registered(); }));
    // The ResourceManager asks for slot 0 for job-1; the JobMaster accepts it.
    v1::ResourceManagerMessage request;
    auto* slot = request.mutable_slot_request();
    slot->set_allocation_id("alloc-1");
    slot->set_slot_index(0);
    slot->set_job_id("job-1");
    slot->set_job_master_address(peer_address_);
    ASSERT_TRUE(rm_.Send(request));
    ASSERT_TRUE(WaitFor([this] { return job_master_.offers() > 0; }));
  }

  void TearDown() override {
    library_.Release();
    if (tm_) tm_->Shutdown();
    StopGrpcServer(peers_);
    std::filesystem::remove_all(work_dir_);
  }

  v1::DeployJobRequest Deployment(const std::string& job_id, const std::string& allocation) {
    auto request = testing::TestJobDeployment("Unbounded", job_id, tm_->spec().id, {allocation},
                                              /*attempt=*/0, peer_address_);
    EXPECT_TRUE(request.ok()) << request.status();
    return *std::move(request);
  }

  // Deploys without waiting; the future holds the answer.
  struct PendingCall {
    std::unique_ptr<grpc::ClientContext> context;
    v1::DeployJobRequest request;
    v1::DeployJobResponse response;
    std::promise<grpc::Status> promise;
  };
  std::shared_ptr<PendingCall> DeployAsync(v1::DeployJobRequest request) {
    auto call = std::make_shared<PendingCall>();
    call->context = WithDeadline(absl::Seconds(60));
    call->request = std::move(request);
    stub_->async()->DeployJob(call->context.get(), &call->request, &call->response,
                              [call](grpc::Status status) { call->promise.set_value(status); });
    return call;
  }

  grpc::Status Call(grpc::Status (v1::TaskExecutor::Stub::*method)(grpc::ClientContext*,
                                                                   const v1::JobTasksRequest&,
                                                                   v1::DeployJobResponse*),
                    const std::string& job_id) {
    v1::JobTasksRequest request;
    request.set_job_id(job_id);
    v1::DeployJobResponse response;
    return (stub_.get()->*method)(WithDeadline(absl::Seconds(5)).get(), request, &response);
  }

  FakeResourceManager rm_;
  FakeLibraryServer library_;
  FakeJobMaster job_master_;
  RunningGrpcServer peers_;
  std::string peer_address_;
  std::string work_dir_;
  std::unique_ptr<TaskManager> tm_;
  std::unique_ptr<v1::TaskExecutor::Stub> stub_;
};

TEST_F(TaskManagerTest, AHeldLibraryDownloadBlocksNoRpcAndACancelledDeploymentIsNotKept) {
  auto deploy = DeployAsync(Deployment("job-1", "alloc-1"));
  ASSERT_TRUE(library_.AwaitFetch());
  auto answered = deploy->promise.get_future();

  // The download is held, yet the TaskManager answers at once.
  v1::SlotReport report;
  grpc::Status status = stub_->GetSlotReport(WithDeadline(absl::Seconds(5)).get(),
                                             v1::GetSlotReportRequest{}, &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(report.slots_size(), 2);
  EXPECT_EQ(report.slots(0).allocation_id(), "alloc-1");
  EXPECT_EQ(report.slots(0).job_id(), "job-1");

  v1::DeployJobResponse refused_response;
  status = stub_->DeployJob(WithDeadline(absl::Seconds(5)).get(), Deployment("job-2", "alloc-7"),
                            &refused_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), AllOf(HasSubstr("alloc-7"), HasSubstr(tm_->spec().id)));

  status = Call(&v1::TaskExecutor::Stub::CancelJob, "job-1");
  EXPECT_TRUE(status.ok()) << status.error_message();

  library_.Release();
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  status = answered.get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_EQ(Call(&v1::TaskExecutor::Stub::StartJob, "job-1").error_code(),
            grpc::StatusCode::NOT_FOUND)
      << "the job built after its cancellation is not kept";
  EXPECT_EQ(job_master_.reports(), 0) << "none of its subtasks ran";
}

TEST_F(TaskManagerTest, FreeingTheSlotStopsTheSubtasksInIt) {
  library_.Release();
  v1::DeployJobResponse deployed;
  grpc::Status status = stub_->DeployJob(WithDeadline(absl::Seconds(60)).get(),
                                         Deployment("job-1", "alloc-1"), &deployed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const int tasks = deployed.tasks();
  ASSERT_GT(tasks, 0);
  status = Call(&v1::TaskExecutor::Stub::StartJob, "job-1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(WaitFor([&] {
    return static_cast<int>(job_master_.Reports(v1::EXECUTION_STATE_RUNNING).size()) == tasks;
  }));

  v1::ResourceManagerMessage free;
  free.mutable_free_allocation()->set_allocation_id("alloc-1");
  free.mutable_free_allocation()->set_reason("the test frees it");
  ASSERT_TRUE(rm_.Send(free));
  ASSERT_TRUE(WaitFor([&] {
    return static_cast<int>(job_master_.Reports(v1::EXECUTION_STATE_FAILED).size()) == tasks;
  }));
  for (const auto& report : job_master_.Reports(v1::EXECUTION_STATE_FAILED)) {
    EXPECT_THAT(report.error(), AllOf(HasSubstr("alloc-1"), HasSubstr("the test frees it")));
  }
  EXPECT_EQ(Call(&v1::TaskExecutor::Stub::StartJob, "job-1").error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(TaskManagerTest, ShutdownAnswersADeploymentWhoseDownloadHangs) {
  auto deploy = DeployAsync(Deployment("job-1", "alloc-1"));
  ASSERT_TRUE(library_.AwaitFetch());
  auto answered = deploy->promise.get_future();
  tm_->Shutdown();  // returns: the download is aborted and the call answered
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_FALSE(answered.get().ok());
}

}  // namespace
}  // namespace sluice
