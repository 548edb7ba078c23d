// A job graph as the JobManager receives it (a protobuf from the client):
// converting and checking it gives a graph or an error, never a crash.
#include <cstdint>

#include "engine/job_graph_convert.h"
#include "google/protobuf/stubs/logging.h"
#include "sluice/v1/jobgraph.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static google::protobuf::LogSilencer quiet;  // invalid UTF-8 is logged, then refused
  sluice::v1::JobGraph proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto graph = sluice::engine::FromProto(proto);
  (void)graph;
  return 0;
}
