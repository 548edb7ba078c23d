#include "resourcemanager/resource_manager_service.h"

#include <memory>
#include <utility>

#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_convert.h"
#include "resourcemanager/rm_convert.h"
#include "resourcemanager/server_session.h"

namespace sluice {
namespace {

using Handle = SessionHandle<v1::ResourceManagerMessage>;

// Answers a session in protocol messages.
class ProtoSessionPeer final : public SessionPeer {
 public:
  explicit ProtoSessionPeer(std::shared_ptr<Handle> handle) : handle_(std::move(handle)) {}

  void SendAccepted(const std::string& registration_id,
                    const std::string& resource_manager_id) override {
    v1::ResourceManagerMessage message;
    message.mutable_accepted()->set_registration_id(registration_id);
    message.mutable_accepted()->set_resource_manager_id(resource_manager_id);
    handle_->Send(std::move(message));
  }

  void SendHeartbeatAck(uint64_t sequence, const ClusterOverview* overview) override {
    v1::ResourceManagerMessage message;
    message.mutable_ack()->set_sequence(sequence);
    if (overview != nullptr) ToProto(*overview, message.mutable_ack()->mutable_overview());
    handle_->Send(std::move(message));
  }

  void Close(const absl::Status& status) override { handle_->Close(ToGrpcStatus(status)); }

  void SendSlotRequest(const SlotGrant& grant, const std::string& job_master_address) override {
    v1::ResourceManagerMessage message;
    ToProto(grant, job_master_address, message.mutable_slot_request());
    handle_->Send(std::move(message));
  }

  void SendFreeAllocation(const std::string& allocation_id, const std::string& reason) override {
    v1::ResourceManagerMessage message;
    message.mutable_free_allocation()->set_allocation_id(allocation_id);
    message.mutable_free_allocation()->set_reason(reason);
    handle_->Send(std::move(message));
  }

  void SendDeclarationResult(const std::string& job_id, const absl::Status& status) override {
    v1::ResourceManagerMessage message;
    auto* result = message.mutable_declaration_result();
    result->set_job_id(job_id);
    result->set_code(static_cast<int>(status.code()));
    result->set_error(std::string(status.message()));
    handle_->Send(std::move(message));
  }

  void SendSlotsRevoked(const std::vector<SlotManagerEffects::Revocation>& revoked) override {
    v1::ResourceManagerMessage message;
    for (const auto& r : revoked) ToProto(r, message.mutable_slots_revoked()->add_slots());
    handle_->Send(std::move(message));
  }

  void SendRequestFailed(const std::string& job_id, const std::string& text) override {
    v1::ResourceManagerMessage message;
    message.mutable_request_failed()->set_job_id(job_id);
    message.mutable_request_failed()->set_message(text);
    handle_->Send(std::move(message));
  }

 private:
  std::shared_ptr<Handle> handle_;
};

grpc::Status EmptyMessage() {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "session message without content");
}

}  // namespace

grpc::ServerBidiReactor<v1::TaskManagerMessage, v1::ResourceManagerMessage>*
ResourceManagerService::TaskManagerSession(grpc::CallbackServerContext*) {
  ResourceManager* core = core_;
  auto on_message = [core](SessionId session, std::shared_ptr<Handle> handle,
                           v1::TaskManagerMessage message) {
    switch (message.kind_case()) {
      case v1::TaskManagerMessage::kRegister:
        core->RegisterTaskManager(session, std::make_shared<ProtoSessionPeer>(std::move(handle)),
                                  FromProto(message.register_()));
        break;
      case v1::TaskManagerMessage::kHeartbeat: {
        const auto& heartbeat = message.heartbeat();
        core->TaskManagerHeartbeat(session, heartbeat.sequence(), FromProto(heartbeat.slots()),
                                   heartbeat.slot_report_version(), FromProto(heartbeat.usage()));
        break;
      }
      case v1::TaskManagerMessage::kDeregister:
        core->DeregisterTaskManager(session, message.deregister().reason());
        break;
      case v1::TaskManagerMessage::kSlotRequestResult:
        core->SlotRequestAnswered(session, FromProto(message.slot_request_result()));
        break;
      default:
        handle->Close(EmptyMessage());
    }
  };
  return ServerSession<v1::TaskManagerMessage, v1::ResourceManagerMessage>::Open(
      core->NewSessionId(), on_message,
      [core](SessionId session) { core->TaskManagerSessionClosed(session); });
}

grpc::ServerBidiReactor<v1::JobManagerMessage, v1::ResourceManagerMessage>*
ResourceManagerService::JobManagerSession(grpc::CallbackServerContext*) {
  ResourceManager* core = core_;
  auto on_message = [core](SessionId session, std::shared_ptr<Handle> handle,
                           v1::JobManagerMessage message) {
    switch (message.kind_case()) {
      case v1::JobManagerMessage::kRegister:
        core->RegisterJobManager(session, std::make_shared<ProtoSessionPeer>(std::move(handle)),
                                 FromProto(message.register_()));
        break;
      case v1::JobManagerMessage::kHeartbeat:
        core->JobManagerHeartbeat(session, message.heartbeat().sequence());
        break;
      case v1::JobManagerMessage::kDeregister:
        core->JobManagerSessionClosed(session);
        handle->Close(grpc::Status::OK);
        break;
      case v1::JobManagerMessage::kDeclare: {
        auto declaration = FromProto(message.declare());
        if (!declaration.ok()) {
          v1::ResourceManagerMessage refused;
          refused.mutable_declaration_result()->set_job_id(message.declare().job_id());
          refused.mutable_declaration_result()->set_code(
              static_cast<int>(declaration.status().code()));
          refused.mutable_declaration_result()->set_error(
              std::string(declaration.status().message()));
          handle->Send(std::move(refused));
          break;
        }
        core->DeclareResources(session, *std::move(declaration));
        break;
      }
      case v1::JobManagerMessage::kFreeSlot:
        core->FreeSlot(session, message.free_slot().allocation_id());
        break;
      case v1::JobManagerMessage::kReleaseJob:
        core->ReleaseJob(session, message.release_job().job_id());
        break;
      default:
        handle->Close(EmptyMessage());
    }
  };
  return ServerSession<v1::JobManagerMessage, v1::ResourceManagerMessage>::Open(
      core->NewSessionId(), on_message,
      [core](SessionId session) { core->JobManagerSessionClosed(session); });
}

grpc::ServerUnaryReactor* ResourceManagerService::GetClusterStatus(
    grpc::CallbackServerContext* context, const v1::GetClusterStatusRequest*,
    v1::ClusterStatus* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  core_->GetClusterStatus([reactor, response](ClusterStatusSnapshot snapshot) {
    ToProto(snapshot, response);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace sluice
