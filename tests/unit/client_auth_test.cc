// Client authentication rules: tokens to principals, who may access which
// tenant's jobs and submit for whom, and the REST guard's answers (401 with
// a Bearer challenge, 403, lists narrowed to the tenant's jobs).
#include "jobmanager/client_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "jobmanager/rest_auth.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

ClientAuth Auth(const std::string& admin_token) {
  std::vector<std::string> overrides{"resourcemanager.tenant.alpha.token=alpha-secret",
                                     "resourcemanager.tenant.beta.weight=2"};
  if (!admin_token.empty()) overrides.push_back("security.admin-token=" + admin_token);
  auto config = Config::FromYaml("jobmanager.rpc.address: jm\nresourcemanager.rpc.address: rm\n",
                                 "conf/sluice.yaml", overrides);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? ClientAuth::FromConfig(*config) : ClientAuth();
}

TEST(ClientAuthTest, WithoutAnAdminTokenEveryoneIsTheAdministrator) {
  const ClientAuth auth = Auth("");
  EXPECT_FALSE(auth.enabled());
  auto who = auth.Authenticate("");
  ASSERT_TRUE(who.ok());
  EXPECT_TRUE(who->admin);
}

TEST(ClientAuthTest, TokensNameTheAdministratorOrATenantAndAnythingElseIsRefused) {
  const ClientAuth auth = Auth("admin-secret");
  ASSERT_TRUE(auth.enabled());
  auto admin = auth.Authenticate("Bearer admin-secret");
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->admin);
  auto alpha = auth.Authenticate("Bearer alpha-secret");
  ASSERT_TRUE(alpha.ok());
  EXPECT_FALSE(alpha->admin);
  EXPECT_EQ(alpha->tenant, "alpha");
  for (const char* header : {"", "Bearer ", "Bearer admin-secre", "Bearer admin-secretx",
                             "Basic YWRtaW46c2VjcmV0", "admin-secret"}) {
    auto refused = auth.Authenticate(header);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated) << "'" << header << "'";
    EXPECT_THAT(refused.status().message(), ::testing::Not(HasSubstr("admin-secret")))
        << "a refusal never echoes a token";
  }
}

TEST(ClientAuthTest, ATenantAccessesAndSubmitsOnlyForItself) {
  const Principal alpha{false, "alpha"}, admin{true, ""};
  EXPECT_TRUE(ClientAuth::MayAccess(alpha, "alpha"));
  EXPECT_FALSE(ClientAuth::MayAccess(alpha, "beta"));
  EXPECT_FALSE(ClientAuth::MayAccess(alpha, "")) << "'' is the tenant 'default'";
  EXPECT_TRUE(ClientAuth::MayAccess(admin, "beta"));
  EXPECT_EQ(*ClientAuth::SubmittingTenant(alpha, ""), "alpha");
  EXPECT_EQ(*ClientAuth::SubmittingTenant(alpha, "alpha"), "alpha");
  EXPECT_EQ(ClientAuth::SubmittingTenant(alpha, "beta").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(*ClientAuth::SubmittingTenant(admin, "beta"), "beta");
}

class RestGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http_.SetGuard(RestGuard(&auth_, [](const std::string& job) -> std::optional<std::string> {
      if (job == "job-a") return "alpha";
      if (job == "job-b") return "beta";
      return std::nullopt;
    }));
    for (const char* path : {"/", "/taskmanagers", "/metrics", "/overview"}) {
      http_.HandleGet(path, [] { return HttpResponse{200, "text/plain", "ok"}; });
    }
    http_.Handle(HttpServer::Method::kGet, "/jobs(/.*)?", [](const HttpRequest& request) {
      return HttpResponse{200, "text/plain", request.tenant.value_or("*")};
    });
  }
  HttpResponse Get(const std::string& path, const std::string& token) {
    HttpRequest request;
    request.client = "127.0.0.1:5555";
    if (!token.empty()) request.authorization = "Bearer " + token;
    return http_.Answer("GET", path, request);
  }

  ClientAuth auth_ = Auth("admin-secret");
  HttpServer http_;
};

TEST_F(RestGuardTest, NoTokenIs401WithABearerChallengeButTheWebUiPageLoads) {
  HttpResponse refused = Get("/overview", "");
  EXPECT_EQ(refused.status, 401);
  EXPECT_THAT(refused.body, HasSubstr(R"({"errors":["this cluster needs a token)"));
  EXPECT_THAT(refused.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                   "WWW-Authenticate", "Bearer realm=\"sluice\"")));
  EXPECT_EQ(Get("/", "").status, 200);
}

TEST_F(RestGuardTest, ATenantGetsItsJobsOnlyAndNothingClusterWide) {
  EXPECT_EQ(Get("/jobs", "alpha-secret").body, "alpha") << "the list is narrowed to alpha";
  EXPECT_EQ(Get("/jobs/job-a/checkpoints", "alpha-secret").status, 200);
  EXPECT_EQ(Get("/jobs/job-b", "alpha-secret").status, 403);
  EXPECT_EQ(Get("/jobs/job-b/vertices/v", "alpha-secret").status, 403);
  EXPECT_EQ(Get("/jobs/unknown", "alpha-secret").status, 200) << "the route answers 404 itself";
  EXPECT_EQ(Get("/taskmanagers", "alpha-secret").status, 403);
  EXPECT_EQ(Get("/metrics", "alpha-secret").status, 403);
  EXPECT_EQ(Get("/overview", "alpha-secret").status, 200);
}

TEST_F(RestGuardTest, TheAdministratorGetsEverything) {
  EXPECT_EQ(Get("/jobs", "admin-secret").body, "*");
  EXPECT_EQ(Get("/jobs/job-b", "admin-secret").status, 200);
  EXPECT_EQ(Get("/taskmanagers", "admin-secret").status, 200);
}

}  // namespace
}  // namespace sluice
