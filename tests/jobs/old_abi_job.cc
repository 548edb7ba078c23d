// A job library as an SDK of another job ABI would build it: the entry points
// exist, the version is not this runtime's. Loading it must be refused with
// both versions named, not crash in code built against other layouts.
extern "C" __attribute__((visibility("default"))) int sluice_job_abi_version() { return 1; }
extern "C" __attribute__((visibility("default"))) const void* sluice_job_registry_v1() {
  return nullptr;
}
