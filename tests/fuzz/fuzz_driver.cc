// main() for the fuzz targets when they are not built with libFuzzer
// (SLUICE_FUZZ=OFF, the CI's g++ build with AddressSanitizer): runs every
// file of the corpus directories given, then mutations of them (bit flips,
// truncations, inserted and overwritten bytes, lengths set to huge values),
// deterministically from a seed, until --seconds have passed. A crash, a
// sanitizer report or an exception escaping the target fails the run.
//   <target> [--seconds N] [--seed N] <corpus dir>...
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string Mutate(std::string input, std::mt19937_64& random) {
  const int edits = 1 + static_cast<int>(random() % 4);
  for (int e = 0; e < edits; ++e) {
    const size_t at = input.empty() ? 0 : random() % input.size();
    switch (random() % 6) {
      case 0:  // flip a bit
        if (!input.empty()) input[at] = static_cast<char>(input[at] ^ (1 << (random() % 8)));
        break;
      case 1:  // truncate
        input.resize(at);
        break;
      case 2:  // insert random bytes
        for (int i = 0, n = 1 + static_cast<int>(random() % 8); i < n; ++i) {
          input.insert(input.begin() + static_cast<long>(at), static_cast<char>(random()));
        }
        break;
      case 3:  // a huge 32-bit length
        if (input.size() >= at + 4) std::memset(input.data() + at, 0xff, 4);
        break;
      case 4:  // a varint that never ends
        if (!input.empty()) input[at] = static_cast<char>(0x80 | random());
        break;
      default:  // duplicate a slice
        if (!input.empty()) input.insert(at, input.substr(at, random() % 64));
        break;
    }
  }
  return input;
}

const std::string* current = nullptr;

// The input that crashed goes to fuzz-crash.bin (in the working directory),
// to be replayed: <target> <dir holding it>.
void OnCrash(int signal) {
  if (current != nullptr) {
    FILE* out = std::fopen("fuzz-crash.bin", "wb");
    if (out != nullptr) {
      std::fwrite(current->data(), 1, current->size(), out);
      std::fclose(out);
    }
    std::fprintf(stderr, "crashed on an input of %zu bytes, written to fuzz-crash.bin\n",
                 current->size());
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void Run(const std::string& input) {
  current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  uint64_t seed = 1;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        corpus.push_back(bytes.str());
      }
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "usage: %s [--seconds N] [--seed N] <corpus dir>...\n", argv[0]);
    return 2;
  }
  for (int signal : {SIGSEGV, SIGABRT, SIGILL, SIGBUS, SIGFPE}) std::signal(signal, &OnCrash);
  for (const auto& input : corpus) Run(input);
  std::mt19937_64 random(seed);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t runs = corpus.size();
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 64; ++i, ++runs) Run(Mutate(corpus[random() % corpus.size()], random));
  }
  std::printf("%llu inputs (%zu from the corpus, seed %llu): no crash\n",
              static_cast<unsigned long long>(runs), corpus.size(),
              static_cast<unsigned long long>(seed));
  return 0;
}
