// Everything a job library needs.
#ifndef SLUICE_SLUICE_H_
#define SLUICE_SLUICE_H_

#include "sluice/collector.h"
#include "sluice/datastream.h"
#include "sluice/functions.h"
#include "sluice/job.h"
#include "sluice/parameter_tool.h"
#include "sluice/serialization.h"
#include "sluice/state.h"

#endif  // SLUICE_SLUICE_H_
