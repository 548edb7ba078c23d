// Where the CLI's -m points. Flink users pass the REST address (host:8081);
// Sluice's CLI speaks gRPC to the JobManager's RPC port. If `target` answers
// HTTP with the JobManager's /config, its RPC address is used instead;
// anything else (the RPC port itself, nothing at all) is kept as given, and
// the RPC call reports what is wrong with it.
#ifndef SLUICE_CLIENT_JOBMANAGER_ADDRESS_H_
#define SLUICE_CLIENT_JOBMANAGER_ADDRESS_H_

#include <string>

namespace sluice {

std::string ResolveJobManager(const std::string& target);

}  // namespace sluice

#endif  // SLUICE_CLIENT_JOBMANAGER_ADDRESS_H_
