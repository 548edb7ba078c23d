// docs/configuration.md is generated from the option catalogue
// (`sluice config docs > docs/configuration.md`); this test fails when they
// disagree, so the documentation cannot drift.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/config/config.h"
#include "common/config/config_options.h"

namespace sluice {
namespace {

TEST(ConfigDocsTest, CheckedInReferenceMatchesTheCode) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), RenderConfigReference())
      << "docs/configuration.md is stale: run `build/bin/sluice config docs > "
         "docs/configuration.md`";
}

TEST(ConfigDocsTest, EveryDefaultParsesAndEveryKeyIsDocumented) {
  // Loading with only the required keys parses every default of the catalogue.
  auto config =
      Config::FromYaml("jobmanager.rpc.address: a\nresourcemanager.rpc.address: b\n", "test", {});
  ASSERT_TRUE(config.ok()) << config.status();
  for (const auto& option : AllConfigOptions()) {
    EXPECT_FALSE(option.description.empty()) << option.key;
    EXPECT_TRUE(option.required || option.default_value || option.may_be_unset ||
                option.key.find('<') != std::string::npos)
        << option.key << " has no default, is not required and is not meant to be unset";
    EXPECT_FALSE(option.may_be_unset && option.default_value) << option.key;
  }
}

}  // namespace
}  // namespace sluice
