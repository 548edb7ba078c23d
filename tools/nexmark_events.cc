// Writes Nexmark events 0 .. N-1 to stdout, one ToLine() line each, in
// event-number order (see include/sluice/nexmark.h for the format and
// tests/nexmark/README.md for the expected results of the queries).
//
//   nexmark_events --events N [--rate R] [--seed S] [--base-time MS] > events.txt
//
// Needs only the header: no Sluice runtime.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "sluice/nexmark.h"

namespace {

[[noreturn]] void Usage(const char* why) {
  if (why != nullptr) std::fprintf(stderr, "nexmark_events: %s\n", why);
  std::fprintf(stderr,
               "usage: nexmark_events --events N [--rate EVENTS_PER_S] [--seed S] "
               "[--base-time MS]\n"
               "  writes events 0..N-1 to stdout, one line each (defaults: rate 10000000,\n"
               "  seed 42, base time 1700000000000)\n");
  std::exit(why == nullptr ? 0 : 2);
}

template <typename T>
T ParseInt(std::string_view flag, std::string_view text) {
  T v{};
  auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size()) {
    std::string why = std::string(flag) + ": not an integer: " + std::string(text);
    Usage(why.c_str());
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::nexmark::GeneratorConfig config;
  bool have_events = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") Usage(nullptr);
    if (i + 1 >= argc) Usage(("missing value for " + std::string(flag)).c_str());
    std::string_view value = argv[++i];
    if (flag == "--events") {
      config.events = ParseInt<int64_t>(flag, value);
      have_events = true;
    } else if (flag == "--rate") {
      char* end = nullptr;
      std::string text(value);
      config.first_event_rate = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size() || !(config.first_event_rate > 0))
        Usage("--rate: not a positive number");
    } else if (flag == "--seed") {
      config.seed = ParseInt<uint64_t>(flag, value);
    } else if (flag == "--base-time") {
      config.base_time_ms = ParseInt<int64_t>(flag, value);
    } else {
      Usage(("unknown flag " + std::string(flag)).c_str());
    }
  }
  if (!have_events) Usage("--events is required");
  if (config.events < 0) Usage("--events must be >= 0");

  sluice::nexmark::Generator generator(config);
  sluice::nexmark::Event event;
  std::string buffer;
  buffer.reserve((1 << 20) + 4096);
  for (int64_t n = 0; n < config.events; ++n) {
    generator.At(n, &event);
    sluice::nexmark::AppendLine(event, &buffer);
    buffer.push_back('\n');
    if (buffer.size() >= (1 << 20) || n + 1 == config.events) {
      if (std::fwrite(buffer.data(), 1, buffer.size(), stdout) != buffer.size()) {
        std::perror("nexmark_events: write");
        return 1;
      }
      buffer.clear();
    }
  }
  if (std::fflush(stdout) != 0) {
    std::perror("nexmark_events: write");
    return 1;
  }
  return 0;
}
