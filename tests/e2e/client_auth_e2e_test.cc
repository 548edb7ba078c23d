// Client authentication on a real cluster (security.admin-token and two
// tenants' tokens): the CLI and REST without a token get 401, a tenant sees
// and controls only its own jobs (403 for the other's, over REST and the
// CLI), cluster-wide endpoints are the administrator's, and each refusal is
// logged with who and from where.
#include "tests/e2e/cluster_fixture.h"

namespace sluice::e2e {
namespace {

using testing::RawHttp;

class ClientAuthE2eTest : public JobE2eTest {
 protected:
  std::string ExtraConfig() override {
    return "security.admin-token: admin-secret\n"
           "resourcemanager.tenant.alpha.token: alpha-secret\n"
           "resourcemanager.tenant.beta.token: beta-secret\n";
  }
  CommandResult As(const std::string& token, const std::string& args) {
    return Sluice(absl::StrCat("--token ", token, " ", args));
  }
  std::string RunUnbounded(const std::string& token) {
    CommandResult run = As(token, absl::StrCat("run", Jm(), "-d -p 1 -c Unbounded ", kTestJobs));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::smatch id;
    return std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})")) ? id[1].str() : "";
  }
  // (status, body) of `method path` presenting `token` (none if empty).
  std::pair<int, std::string> Rest(const std::string& method, const std::string& path,
                                   const std::string& token) {
    return RawHttp(rest_port_, absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                            token.empty() ? "" : "Authorization: Bearer ", token,
                                            token.empty() ? "" : "\r\n",
                                            "Content-Length: 0\r\nConnection: close\r\n\r\n"));
  }
};

TEST_F(ClientAuthE2eTest, ATenantSeesAndControlsOnlyItsOwnJobsAndStrangersNothing) {
  CommandResult anonymous = Sluice(absl::StrCat("run", Jm(), "-d -p 1 -c Unbounded ", kTestJobs));
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_THAT(anonymous.output, HasSubstr("needs a token"));
  CommandResult forged = As("guess", absl::StrCat("list -a", Jm()));
  EXPECT_EQ(forged.exit_code, 1);
  EXPECT_THAT(forged.output, HasSubstr("neither the administrator's nor a tenant's"));

  const std::string alpha_job = RunUnbounded("alpha-secret");
  const std::string beta_job = RunUnbounded("beta-secret");
  ASSERT_FALSE(alpha_job.empty());
  ASSERT_FALSE(beta_job.empty());

  // The CLI: each tenant lists its own job; the administrator both.
  const std::string alpha_list = As("alpha-secret", absl::StrCat("list -a", Jm())).output;
  EXPECT_THAT(alpha_list, HasSubstr(alpha_job));
  EXPECT_THAT(alpha_list, ::testing::Not(HasSubstr(beta_job)));
  const std::string admin_list = As("admin-secret", absl::StrCat("list -a", Jm())).output;
  EXPECT_THAT(admin_list, HasSubstr(alpha_job));
  EXPECT_THAT(admin_list, HasSubstr(beta_job));
  CommandResult cross = As("alpha-secret", absl::StrCat("cancel", Jm(), beta_job));
  EXPECT_EQ(cross.exit_code, 1);
  EXPECT_THAT(cross.output, HasSubstr("belongs to another tenant"));

  // REST: 401 without a token, the web UI's page still loads, 403 across tenants.
  auto [status, body] = Rest("GET", "/jobs/overview", "");
  EXPECT_EQ(status, 401);
  EXPECT_THAT(body, HasSubstr(R"({"errors":["this cluster needs a token)"));
  EXPECT_EQ(Rest("GET", "/", "").first, 200);
  auto alpha_rest = Rest("GET", "/jobs/overview", "alpha-secret");
  EXPECT_EQ(alpha_rest.first, 200);
  EXPECT_THAT(alpha_rest.second, HasSubstr(alpha_job));
  EXPECT_THAT(alpha_rest.second, ::testing::Not(HasSubstr(beta_job)));
  EXPECT_EQ(Rest("GET", absl::StrCat("/jobs/", beta_job), "alpha-secret").first, 403);
  EXPECT_EQ(Rest("PATCH", absl::StrCat("/jobs/", beta_job, "?mode=cancel"), "alpha-secret").first,
            403);
  EXPECT_EQ(Rest("GET", "/taskmanagers", "alpha-secret").first, 403);
  EXPECT_EQ(Rest("GET", "/metrics", "beta-secret").first, 403);
  EXPECT_EQ(Rest("GET", "/taskmanagers", "admin-secret").first, 200);
  EXPECT_THAT(Sluice(absl::StrCat("list -a", Jm())).output, ::testing::Not(HasSubstr(beta_job)))
      << "nothing listed to a client without a token";

  // Beta's job ran on through all of it; its owner cancels it.
  EXPECT_TRUE(WaitFor([&] {
    return As("beta-secret", absl::StrCat("list -r", Jm())).output.find(beta_job) !=
           std::string::npos;
  })) << "beta's job runs (it may still have been deploying)";
  EXPECT_EQ(Rest("PATCH", absl::StrCat("/jobs/", beta_job, "?mode=cancel"), "beta-secret").first,
            202);
  CommandResult own = As("alpha-secret", absl::StrCat("cancel", Jm(), alpha_job));
  EXPECT_EQ(own.exit_code, 0) << own.output;

  const std::string log = DaemonLog("jobmanager");
  // (The CLI's cancel asks for the job first: that call is refused.)
  EXPECT_THAT(log, HasSubstr("of job " + beta_job + " from ipv4:127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr("(tenant 'alpha'): another tenant's job"));
  EXPECT_THAT(log, HasSubstr("REST: refused GET /jobs/overview from 127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr("REST: refused GET /taskmanagers from 127.0.0.1:"));
}

}  // namespace
}  // namespace sluice::e2e
