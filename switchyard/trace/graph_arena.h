// Storage for a graph's values, nodes, arguments and outputs: objects are made
// in blocks of at least 128 and freed all at once with the arena, so recording
// a node rarely allocates. Internal to the graph (graph.h).
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace sy::detail {

template <typename T>
class GraphArena {
 public:
  GraphArena() = default;
  GraphArena(GraphArena&& o) noexcept : blocks_(std::move(o.blocks_)) { o.blocks_.clear(); }
  GraphArena& operator=(GraphArena&& o) noexcept {
    if (this != &o) {
      release();
      blocks_ = std::move(o.blocks_);
      o.blocks_.clear();
    }
    return *this;
  }
  GraphArena(const GraphArena&) = delete;
  GraphArena& operator=(const GraphArena&) = delete;
  ~GraphArena() { release(); }

  // n objects, contiguous, each made from `args`.
  template <typename... A>
  T* make_n(size_t n, const A&... args) {
    if (blocks_.empty() || blocks_.back().cap - blocks_.back().used < n) {
      const size_t cap = n > kBlock ? n : kBlock;
      blocks_.push_back({std::allocator<T>().allocate(cap), cap, 0});
    }
    Block& b = blocks_.back();
    T* first = b.data + b.used;
    for (size_t i = 0; i < n; ++i) {
      new (first + i) T(args...);
      ++b.used;
    }
    return first;
  }

 private:
  static constexpr size_t kBlock = 128;
  struct Block {
    T* data;
    size_t cap;
    size_t used;
  };
  void release() {
    for (Block& b : blocks_) {
      for (size_t i = 0; i < b.used; ++i) b.data[i].~T();
      std::allocator<T>().deallocate(b.data, b.cap);
    }
    blocks_.clear();
  }
  std::vector<Block> blocks_;
};

// A view of n objects in a GraphArena, iterable like a vector.
template <typename T>
struct ArenaSpan {
  T* data = nullptr;
  size_t n = 0;
  T* begin() const { return data; }
  T* end() const { return data + n; }
  size_t size() const { return n; }
  T& operator[](size_t i) const { return data[i]; }
};

}  // namespace sy::detail
