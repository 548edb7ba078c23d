#include "common/config/yaml_reader.h"

#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/exceptions.h"
#include "yaml-cpp/mark.h"
#include "yaml-cpp/parser.h"

namespace sluice {
namespace {

// Errors are one line whatever the file holds: control characters the
// message quotes from it (a newline in a key, a bad escape) are escaped.
std::string OneLine(const std::string& message) {
  std::string out;
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", byte));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Thrown from the event handler to stop the parser at the first refusal.
struct Refusal {
  std::string message;
};

// Builds the flat key map from the parser's events; refuses by throwing.
class FlatteningHandler : public YAML::EventHandler {
 public:
  explicit FlatteningHandler(const std::string& source) : source_(source) {}

  std::map<std::string, YamlValue> Take() && { return std::move(keys_); }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0) Refuse(mark, "only one YAML document is allowed ('---' found)");
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    if (maps_.empty()) return;  // an empty document
    if (!maps_.back().pending_key) Refuse(mark, "a key is empty");
    Record(mark, std::nullopt);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    Refuse(mark, "YAML aliases ('*name') are not allowed in the configuration");
  }

  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    if (maps_.empty()) Refuse(mark, "expected a mapping of keys to values at the top level");
    Frame& frame = maps_.back();
    if (frame.pending_key) {
      Record(mark, value);
    } else {
      frame.pending_key = FullKey(frame, value);
      CheckNew(mark, *frame.pending_key);
    }
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    if (maps_.empty()) Refuse(mark, "expected a mapping of keys to values at the top level");
    const Frame& frame = maps_.back();
    if (!frame.pending_key) Refuse(mark, "a key must be plain text, not a list");
    RefuseKey(*frame.pending_key, "expected a single value, got a list");
  }
  void OnSequenceEnd() override {}

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    if (maps_.size() >= static_cast<size_t>(kMaxConfigNesting)) {
      Refuse(mark, absl::StrCat("nested deeper than ", kMaxConfigNesting, " levels"));
    }
    if (maps_.empty()) {
      maps_.push_back(Frame{});
      return;
    }
    Frame& parent = maps_.back();
    if (!parent.pending_key) Refuse(mark, "a key must be plain text, not a mapping");
    std::string prefix = *std::exchange(parent.pending_key, std::nullopt);
    maps_.push_back(Frame{std::move(prefix), std::nullopt});
  }
  void OnMapEnd() override { maps_.pop_back(); }

 private:
  struct Frame {
    std::string prefix;                      // "a.b" for the mapping under a: b:
    std::optional<std::string> pending_key;  // a key read, its value not yet
  };

  static std::string FullKey(const Frame& frame, const std::string& key) {
    return frame.prefix.empty() ? key : absl::StrCat(frame.prefix, ".", key);
  }

  void CheckNew(const YAML::Mark& mark, const std::string& key) {
    if (key.empty() || key.back() == '.') Refuse(mark, "a key is empty");
    auto [it, inserted] = lines_.emplace(key, mark.line + 1);
    if (!inserted) {
      RefuseKey(key, absl::StrCat("given twice (lines ", it->second, " and ", mark.line + 1, ")"));
    }
  }

  void Record(const YAML::Mark& mark, std::optional<std::string> text) {
    Frame& frame = maps_.back();
    std::string key = *std::exchange(frame.pending_key, std::nullopt);
    keys_[key] = YamlValue{std::move(text), mark.line + 1};
  }

  [[noreturn]] void Refuse(const YAML::Mark& mark, absl::string_view reason) const {
    throw Refusal{absl::StrCat(source_, ": line ", mark.line + 1, ": ", reason)};
  }
  [[noreturn]] void RefuseKey(const std::string& key, absl::string_view reason) const {
    throw Refusal{absl::StrCat(source_, ": key '", key, "': ", reason)};
  }

  const std::string& source_;
  int documents_ = 0;
  std::vector<Frame> maps_;
  std::map<std::string, int> lines_;  // every key and section seen, with its line
  std::map<std::string, YamlValue> keys_;
};

}  // namespace

absl::StatusOr<std::map<std::string, YamlValue>> ReadYamlKeys(absl::string_view yaml,
                                                              const std::string& source) {
  if (yaml.size() > kMaxConfigFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": larger than ", kMaxConfigFileBytes,
                                                   " bytes; is this the configuration file?"));
  }
  std::istringstream in{std::string(yaml)};
  FlatteningHandler handler(source);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(handler)) {
    }
  } catch (const Refusal& refusal) {
    return absl::InvalidArgumentError(OneLine(refusal.message));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        OneLine(absl::StrCat(source, ": invalid YAML at line ", e.mark.line + 1, ", column ",
                             e.mark.column + 1, ": ", e.msg)));
  }
  return std::move(handler).Take();
}

}  // namespace sluice
