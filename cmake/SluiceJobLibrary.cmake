# sluice_add_job_library(<name> <sources>...)
#
# Builds a Sluice job library: a shared object that registers jobs with
# SLUICE_JOB and is run with `sluice run -c <Job> lib<name>.so`. The job API
# is header-only, so the library links nothing of Sluice's; it reaches the
# runtime through the versioned job ABI (sluice/internal/abi.h). Without a
# CMAKE_BUILD_TYPE it is built with -O2.
function(sluice_add_job_library name)
  add_library(${name} SHARED ${ARGN})
  target_compile_features(${name} PRIVATE cxx_std_20)
  if(TARGET Sluice::api)
    target_link_libraries(${name} PRIVATE Sluice::api)
  else()
    target_link_libraries(${name} PRIVATE sluice_api)
  endif()
  # A project that names no build type would build at -O0 (CMake's empty
  # default): jobs are throughput code, so default to an optimized build.
  get_property(multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(NOT multi_config AND NOT CMAKE_BUILD_TYPE)
    target_compile_options(${name} PRIVATE -O2)
  endif()
  # Only the registry entry points are exported; everything else stays inside.
  set_target_properties(${name} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
endfunction()
