// Writes the models the C ABI test (c_api_test.c) loads, into the directory
// given: mlp.sy (a 16-32-4 MLP traced from C++), mlp_input.bin and
// mlp_expected.bin (an input and the eager output, raw float32), and two bad
// files: truncated.sy (mlp.sy cut in half) and newer.sy (a newer format version).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "switchyard/switchyard.h"

namespace {

sy::Tensor random(sy::IntArrayRef sizes, uint32_t seed) {
  sy::Tensor t = sy::empty(sizes);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data_ptr<float>()[i] = dist(gen);
  return t;
}

void write(const std::string& path, const void* data, size_t n) {
  std::ofstream(path, std::ios::binary)
      .write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const sy::Tensor w1 = random({16, 32}, 1), b1 = random({32}, 2), w2 = random({32, 4}, 3),
                   b2 = random({4}, 4);
  auto mlp = [&](const std::vector<sy::Tensor>& in) {
    return std::vector<sy::Tensor>{sy::addmm(b2, sy::relu(sy::addmm(b1, in[0], w1)), w2)};
  };
  const sy::Graph g = sy::trace(mlp, {random({8, 16}, 5)});
  g.save(dir + "/mlp.sy");
  const sy::Tensor x = random({8, 16}, 6);
  const sy::Tensor y = mlp({x})[0].contiguous();
  write(dir + "/mlp_input.bin", x.raw_data(), x.numel() * sizeof(float));
  write(dir + "/mlp_expected.bin", y.raw_data(), y.numel() * sizeof(float));
  std::string bytes = sy::detail::graph_to_bytes(g);
  write(dir + "/truncated.sy", bytes.data(), bytes.size() / 2);
  const uint32_t newer = sy::kGraphFileVersion + 1;
  std::memcpy(bytes.data() + 8, &newer, sizeof(newer));
  write(dir + "/newer.sy", bytes.data(), bytes.size());
  return 0;
}
