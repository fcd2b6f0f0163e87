// libFuzzer target for the graph file loader (switchyard/trace/graph_file.h).
// Every input must either throw sy::GraphFileError, or load to a graph that
// checks and saves to bytes that load again and save identically. Anything
// else (another exception, a failed round trip, a sanitizer report) aborts.
//
// The checksum is not verified, so mutations reach the parser instead of
// stopping at the header. With SY_GRAPH_FUZZER_SEEDS=<dir> in the environment
// the program writes a few saved graphs there as seeds and exits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/switchyard.h"

namespace {

[[noreturn]] void die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "graph_file_fuzzer: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

using Fn = std::vector<sy::Tensor> (*)(const std::vector<sy::Tensor>&);

std::vector<sy::Tensor> mlp(const std::vector<sy::Tensor>& in) {
  const sy::Tensor w = sy::full({3, 2}, 0.5f), b = sy::ones({2});
  return {sy::relu(sy::add(sy::matmul(in[0], w), b)).sum()};
}
std::vector<sy::Tensor> shapes(const std::vector<sy::Tensor>& in) {
  sy::Tensor t = in[0].reshape({-1}).unsqueeze(0);
  auto parts = sy::chunk(sy::cat({t, t}, 1), 2, 1);
  return {parts[0], sy::clamp(parts[1], -0.5, 0.5), in[0].to(sy::kInt64)};
}
std::vector<sy::Tensor> kinds(const std::vector<sy::Tensor>& in) {
  return {sy::sum(in[0], std::vector<int64_t>{0}, true, sy::kFloat64), sy::gelu(in[1], "tanh"),
          sy::where(sy::gt(in[0], in[1]), in[0], in[1])};
}

void write_seeds(const char* dir) {
  const std::vector<std::pair<const char*, std::pair<Fn, std::vector<sy::Tensor>>>> seeds = {
      {"mlp", {mlp, {sy::rand({4, 3})}}},
      {"shapes", {shapes, {sy::rand({2, 3})}}},
      {"kinds", {kinds, {sy::rand({2, 3}), sy::rand({2, 3})}}},
  };
  for (const auto& [name, seed] : seeds) {
    const std::string bytes = sy::detail::graph_to_bytes(sy::trace(seed.first, seed.second));
    std::ofstream(std::string(dir) + "/" + name + ".sy", std::ios::binary) << bytes;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SY_GRAPH_FUZZER_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string saved;
  try {
    const sy::Graph g = sy::detail::graph_from_bytes(bytes, "fuzz input", false);
    saved = sy::detail::graph_to_bytes(g);
  } catch (const sy::GraphFileError&) {
    return 0;
  } catch (const std::exception& e) {
    die("the loader threw something other than GraphFileError", e.what());
  }
  try {
    const std::string again =
        sy::detail::graph_to_bytes(sy::detail::graph_from_bytes(saved, "saved again"));
    if (again != saved) die("a loaded graph saves differently the second time", "");
  } catch (const std::exception& e) {
    die("a loaded graph does not load again once saved", e.what());
  }
  return 0;
}
