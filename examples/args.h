// "--name value" job arguments for the examples.
#ifndef SLUICE_EXAMPLES_ARGS_H_
#define SLUICE_EXAMPLES_ARGS_H_

#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

class Args {
 public:
  explicit Args(const std::vector<std::string>& args) : args_(args) {}
  std::string Get(const std::string& name, const std::string& fallback) const {
    for (size_t i = 0; i + 1 < args_.size(); ++i) {
      if (args_[i] == name) return args_[i + 1];
    }
    return fallback;
  }
  std::string Required(const std::string& name) const {
    std::string value = Get(name, "");
    if (value.empty()) throw std::invalid_argument("missing job argument " + name + " <value>");
    return value;
  }
  double Number(const std::string& name, double fallback) const {
    std::string value = Get(name, "");
    return value.empty() ? fallback : std::stod(value);
  }

 private:
  const std::vector<std::string>& args_;
};

}  // namespace examples

#endif  // SLUICE_EXAMPLES_ARGS_H_
