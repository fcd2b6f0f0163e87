// The graph file: saved graphs load and replay as they were, and every kind of
// bad file (missing, truncated, corrupted, newer, calling unknown ops or ops
// whose schema changed) is a GraphFileError that says what is wrong.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "switchyard/switchyard.h"
#include "test_tensors.h"

namespace sy {
namespace {

using testing_tensors::expect_same_bits;

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "/graph_file_test_" + name + ".sy";
}

// A small MLP-like graph with weights from outside the trace (constants).
struct Mlp {
  Tensor w1 = rand({4, 8});
  Tensor b1 = rand({8});
  Tensor w2 = rand({8, 3});
  std::vector<Tensor> operator()(const std::vector<Tensor>& in) const {
    Tensor h = relu(add(matmul(in[0], w1), b1));
    return {matmul(h, w2), h.sum()};
  }
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string error_of(const std::string& bytes, bool verify_checksum = true) {
  try {
    detail::graph_from_bytes(bytes, "bytes", verify_checksum);
  } catch (const GraphFileError& e) {
    return e.what();
  }
  return "";
}

// `bytes` with its header's checksum recomputed, so edits reach the parser.
std::string with_checksum(std::string bytes) {
  const uint64_t h = detail::graph_file_checksum(std::string_view(bytes).substr(32));
  std::memcpy(bytes.data() + 24, &h, 8);
  return bytes;
}

TEST(GraphFile, SavedGraphLoadsAndReplaysAsTraced) {
  const Mlp mlp;
  const Tensor x = rand({5, 4});
  const Graph g = trace(mlp, {x});
  const std::string path = temp_path("mlp");
  g.save(path);
  const Graph loaded = Graph::load(path);
  EXPECT_EQ(loaded.num_nodes(), g.num_nodes());
  EXPECT_EQ(loaded.inputs().size(), 1u);
  EXPECT_EQ(loaded.outputs().size(), 2u);
  const Tensor y = rand({5, 4});
  const std::vector<Tensor> expected = mlp({y});
  const std::vector<Tensor> got = loaded.run({y});
  ASSERT_EQ(got.size(), 2u);
  expect_same_bits(got[0], expected[0]);
  expect_same_bits(got[1], expected[1]);
  std::remove(path.c_str());
}

TEST(GraphFile, SavingTwiceGivesTheSameBytes) {
  const Graph g = trace(Mlp(), {rand({2, 4})});
  const std::string once = detail::graph_to_bytes(g);
  const std::string twice = detail::graph_to_bytes(detail::graph_from_bytes(once, "first save"));
  EXPECT_EQ(once, twice);
}

TEST(GraphFile, KeepsConstantArgumentsOfEveryKind) {
  Graph g = trace(
      [](const std::vector<Tensor>& in) {
        Tensor a = sum(in[0], std::vector<int64_t>{1}, true, kFloat64);
        Tensor b = in[0].to(kInt64).to(kFloat32);
        return std::vector<Tensor>{a, clamp(b, -1.5, std::nullopt), gelu(in[0], "tanh")};
      },
      {rand({2, 3})});
  const Graph loaded = detail::graph_from_bytes(detail::graph_to_bytes(g), "kinds");
  EXPECT_EQ(loaded.to_string(), g.to_string());
}

TEST(GraphFile, MissingFileIsAnErrorNamingIt) {
  try {
    Graph::load("/nonexistent/dir/model.sy");
    FAIL();
  } catch (const GraphFileError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open '/nonexistent/dir/model.sy'"),
              std::string::npos)
        << e.what();
  }
}

TEST(GraphFile, EveryTruncationIsAnError) {
  const std::string bytes = detail::graph_to_bytes(trace(Mlp(), {rand({2, 4})}));
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string e = error_of(bytes.substr(0, n));
    ASSERT_FALSE(e.empty()) << "a file cut to " << n << " bytes loaded";
  }
  EXPECT_NE(error_of(bytes.substr(0, 10)).find("shorter than the 32-byte header"),
            std::string::npos);
  EXPECT_NE(error_of(bytes.substr(0, 100)).find("truncated"), std::string::npos);
}

TEST(GraphFile, CorruptedPayloadFailsTheChecksum) {
  std::string bytes = detail::graph_to_bytes(trace(Mlp(), {rand({2, 4})}));
  bytes[bytes.size() / 2] ^= 0x40;
  EXPECT_NE(error_of(bytes).find("corrupted"), std::string::npos) << error_of(bytes);
}

TEST(GraphFile, CorruptionPastTheChecksumNeverCrashes) {
  // With the checksum fixed up, every single-byte change reaches the parser:
  // it must load a graph that checks or throw GraphFileError, nothing else.
  const std::string bytes = detail::graph_to_bytes(trace(Mlp(), {rand({2, 4})}));
  std::mt19937 gen(7);
  for (size_t i = 32; i < bytes.size(); ++i) {
    std::string b = bytes;
    b[i] = static_cast<char>(gen());
    try {
      Graph g = detail::graph_from_bytes(b, "mutated", /*verify_checksum=*/false);
      g.check();
    } catch (const GraphFileError&) {
    }
  }
}

TEST(GraphFile, NewerVersionSaysSo) {
  std::string bytes = detail::graph_to_bytes(trace(Mlp(), {rand({2, 4})}));
  const uint32_t v = kGraphFileVersion + 1;
  std::memcpy(bytes.data() + 8, &v, 4);
  EXPECT_NE(error_of(bytes).find(fmt::format("format version {} is newer", v)), std::string::npos)
      << error_of(bytes);
}

TEST(GraphFile, NotAGraphFileSaysSo) {
  EXPECT_NE(error_of(std::string(64, 'x')).find("not a switchyard graph file"), std::string::npos);
}

TEST(GraphFile, UnknownOpIsNamed) {
  std::string path = temp_path("unknown_op");
  {
    auto lib = std::make_unique<Library>(Library::DEF, "graph_file_gone");
    lib->def("twice(Tensor x) -> Tensor");
    lib->impl("twice", DispatchKey::CPU, [](const Tensor& x) { return add(x, x); });
    auto op =
        Dispatcher::singleton().find_op("graph_file_gone::twice").typed<Tensor(const Tensor&)>();
    trace([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{op.call(in[0])}; },
          {ones({2})})
        .save(path);
  }
  try {
    Graph::load(path);
    FAIL();
  } catch (const GraphFileError& e) {
    EXPECT_NE(std::string(e.what()).find("ops this process does not have: graph_file_gone::twice"),
              std::string::npos)
        << e.what();
  }
  std::remove(path.c_str());
}

TEST(GraphFile, OpWithAnotherSchemaIsNamed) {
  std::string bytes;
  {
    Library lib(Library::DEF, "graph_file_schema");
    lib.def("f(Tensor x) -> Tensor");
    lib.impl("f", DispatchKey::CPU, [](const Tensor& x) { return add(x, x); });
    auto op =
        Dispatcher::singleton().find_op("graph_file_schema::f").typed<Tensor(const Tensor&)>();
    bytes = detail::graph_to_bytes(
        trace([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{op.call(in[0])}; },
              {ones({2})}));
  }
  Library lib(Library::DEF, "graph_file_schema");
  lib.def("f(Tensor x, int k=1) -> Tensor");
  const std::string e = error_of(bytes);
  EXPECT_NE(e.find("graph_file_schema::f is `graph_file_schema::f(Tensor x, int k=1) -> Tensor` "
                   "here, `graph_file_schema::f(Tensor x) -> Tensor` in the file"),
            std::string::npos)
      << e;
}

TEST(GraphFile, SavedFileIsWhatGraphToBytesGives) {
  const Graph g = trace(Mlp(), {rand({2, 4})});
  const std::string path = temp_path("bytes");
  g.save(path);
  EXPECT_EQ(read_file(path), detail::graph_to_bytes(g));
  std::remove(path.c_str());
}

TEST(GraphFile, EditedCountsAreCaughtBeforeAllocating) {
  // The op count is the payload's first word: a huge one must fail cleanly.
  std::string bytes = detail::graph_to_bytes(trace(Mlp(), {rand({2, 4})}));
  const uint32_t huge = 0xFFFFFFF0u;
  std::memcpy(bytes.data() + 32, &huge, 4);
  EXPECT_NE(error_of(with_checksum(bytes)).find("more than the"), std::string::npos)
      << error_of(with_checksum(bytes));
}

}  // namespace
}  // namespace sy
