// Renders a cluster status for people (a table) or programs (JSON).
#ifndef SLUICE_CLIENT_STATUS_FORMAT_H_
#define SLUICE_CLIENT_STATUS_FORMAT_H_

#include <string>

#include "sluice/v1/resourcemanager.pb.h"

namespace sluice {

std::string FormatStatusTable(const v1::ClusterStatus& status);
std::string FormatStatusJson(const v1::ClusterStatus& status);

}  // namespace sluice

#endif  // SLUICE_CLIENT_STATUS_FORMAT_H_
