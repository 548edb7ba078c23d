# sluice_add_job_library(<name> <sources>...)
#
# Builds a Sluice job library: a shared object that registers jobs with
# SLUICE_JOB and is run with `sluice run -c <Job> lib<name>.so`. The job API
# is header-only, so the library links nothing of Sluice's.
function(sluice_add_job_library name)
  add_library(${name} SHARED ${ARGN})
  target_compile_features(${name} PRIVATE cxx_std_20)
  if(TARGET Sluice::api)
    target_link_libraries(${name} PRIVATE Sluice::api)
  else()
    target_link_libraries(${name} PRIVATE sluice_api)
  endif()
  # Only the registry entry point is exported; everything else stays inside.
  set_target_properties(${name} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
endfunction()
