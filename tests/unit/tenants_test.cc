#include "resourcemanager/tenants.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TenantsTest, ComeFromTheConfigWithTheirQuotasAndTokens) {
  auto config = Config::FromYaml(
      "jobmanager.rpc.address: a\nresourcemanager.rpc.address: b\n"
      "resourcemanager.tenant.analytics.weight: 2\n"
      "resourcemanager.tenant.analytics.max-slots: 16\n"
      "resourcemanager.tenant.analytics.max-memory: 8g\n"
      "resourcemanager.tenant.analytics.token: s3cret\n"
      "resourcemanager.tenant.batch.max-cpu: 4.5\n",
      "test", {});
  ASSERT_TRUE(config.ok()) << config.status();
  auto tenants = Tenants::FromConfig(*config);
  ASSERT_TRUE(tenants.ok()) << tenants.status();
  ASSERT_EQ(tenants->all().size(), 3u) << "analytics, batch and the built-in default";
  const Tenant* analytics = tenants->Find("analytics");
  ASSERT_NE(analytics, nullptr);
  EXPECT_EQ(analytics->weight, 2);
  EXPECT_EQ(analytics->quota.max_slots, 16);
  EXPECT_EQ(analytics->quota.max_memory_bytes, 8LL << 30);
  EXPECT_EQ(analytics->quota.Describe(), "16 slots, 8.0 GiB memory");
  EXPECT_EQ(tenants->Find("batch")->quota.max_cpu, 4.5);
  EXPECT_FALSE(tenants->Find(kDefaultTenant)->quota.IsLimited());

  EXPECT_TRUE(tenants->Authorize("analytics", "s3cret").ok());
  EXPECT_EQ(tenants->Authorize("analytics", "").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(tenants->Authorize("nobody", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*tenants->Authorize("", ""))->name, kDefaultTenant);
}

TEST(TenantsTest, BadTenantValuesAreConfigErrors) {
  auto config = Config::FromYaml(
      "jobmanager.rpc.address: a\nresourcemanager.rpc.address: b\n"
      "resourcemanager.tenant.analytics.weight: 0\n",
      "conf/sluice.yaml", {});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("key 'resourcemanager.tenant.analytics.weight'"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace sluice
