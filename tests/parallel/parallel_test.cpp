// parallel_for, parallel_reduce, launch and Future: coverage and chunking, the
// caller's state following the work everywhere (and never leaking between
// tasks), exceptions, inline nesting, and thread counts.
#include "switchyard/parallel/parallel.h"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/autograd/grad_mode.h"

extern char** environ;

namespace sy {
namespace {

using namespace std::chrono_literals;
using K = DispatchKey;

// ---- helpers -----------------------------------------------------------------

struct ValueSlot : ThreadLocalSlot {
  explicit ValueSlot(int v) : value(v) {}
  std::unique_ptr<ThreadLocalSlot> deepcopy() const override {
    return std::make_unique<ValueSlot>(*this);
  }
  int value;
};

const SlotId kSlot = register_thread_local_slot("parallel_test.value");

int slot_value() {
  const auto* s = dynamic_cast<const ValueSlot*>(slot_accessor(kSlot));
  return s ? s->value : -1;
}

// Sets the calling thread's slot to `value` for a scope, then restores it.
class ScopedSlotValue {
 public:
  explicit ScopedSlotValue(int value) : saved_(get_slot_copy(kSlot)) {
    const ValueSlot s(value);
    set_slot(kSlot, &s);
  }
  ~ScopedSlotValue() { set_slot(kSlot, saved_.get()); }

 private:
  std::unique_ptr<ThreadLocalSlot> saved_;
};

// Everything a piece of work can see of its thread's state.
struct Seen {
  uint64_t included = 0;
  uint64_t excluded = 0;
  bool grad = true;
  bool inference = false;
  int slot = -1;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{included " << to_string(DispatchKeySet::from_raw(s.included)) << ", excluded "
            << to_string(DispatchKeySet::from_raw(s.excluded)) << ", grad " << s.grad
            << ", inference " << s.inference << ", slot " << s.slot << "}";
}

Seen seen_here() {
  const LocalDispatchKeySet keys = tls_local_dispatch_key_set();
  return {keys.included.raw(), keys.excluded.raw(), GradMode::is_enabled(),
          is_inference_mode_enabled(), slot_value()};
}

// The result of `f`, waited for without wait() or get() (which would run a
// task no worker has started on this thread): so the task runs on a worker.
template <typename T>
T get_from_pool(const Future<T>& f) {
  while (!f.ready()) std::this_thread::sleep_for(std::chrono::microseconds(20));
  return f.get();
}

class ScopedNumThreads {
 public:
  explicit ScopedNumThreads(int n) : saved_(get_num_threads()) { set_num_threads(n); }
  ~ScopedNumThreads() { set_num_threads(saved_); }

 private:
  int saved_;
};

class ScopedNumInteropThreads {
 public:
  explicit ScopedNumInteropThreads(int n) : saved_(get_num_interop_threads()) {
    set_num_interop_threads(n);
  }
  ~ScopedNumInteropThreads() { set_num_interop_threads(saved_); }

 private:
  int saved_;
};

// Lets `n` pieces of work wait for each other, each for at most a bound, so a
// test that needs them to run at once fails instead of hanging when they don't.
class Rendezvous {
 public:
  explicit Rendezvous(int n) : n_(n) {}
  bool arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mu_);
    if (++arrived_ == n_) cv_.notify_all();
    return cv_.wait_for(lock, 30s, [&] { return arrived_ >= n_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_;
  int arrived_ = 0;
};

// Every test starts and ends on a main thread in the default state: whatever
// the parallel layer did, the caller's own state is unchanged.
class ParallelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(seen_here(), Seen{});
    ASSERT_FALSE(in_parallel_region());
  }
  void TearDown() override {
    EXPECT_EQ(seen_here(), Seen{}) << "the caller's state changed";
    EXPECT_FALSE(in_parallel_region());
  }
};

// ---- parallel_for: coverage and chunks ---------------------------------------------

struct Range {
  int64_t begin, end, grain;
};
std::ostream& operator<<(std::ostream& os, const Range& r) {
  return os << "[" << r.begin << ", " << r.end << ") grain " << r.grain;
}

const Range kRanges[] = {
    {0, 0, 1},      {5, 5, 0},    {5, 3, 1},      {0, 1, 0},         {0, 1, 1},
    {0, 10, 0},     {0, 10, 1},   {0, 10, 3},     {0, 10, 10},       {0, 10, 11},
    {0, 10, 1000},  {-7, 13, 2},  {-100, -50, 7}, {-5, 5, 0},        {0, 9, 4},
    {3, 1000, 999}, {0, 1000, 1}, {0, 1001, 250}, {0, 100000, 1000}, {0, 1 << 17, 8192},
};
const int kThreadCounts[] = {1, 2, 3, 8};

using Chunks = std::vector<std::pair<int64_t, int64_t>>;

// The chunks parallel_for called f with, sorted by start.
Chunks chunks_of(const Range& r) {
  std::mutex mu;
  Chunks chunks;
  parallel_for(r.begin, r.end, r.grain, [&](int64_t b, int64_t e) {
    std::lock_guard<std::mutex> lock(mu);
    chunks.emplace_back(b, e);
  });
  std::sort(chunks.begin(), chunks.end());
  return chunks;
}

class ParallelFor : public ParallelTest {};

TEST_F(ParallelFor, CoversEveryIndexExactlyOnce) {
  for (int threads : kThreadCounts) {
    ScopedNumThreads n(threads);
    for (const Range& r : kRanges) {
      const int64_t size = std::max<int64_t>(0, r.end - r.begin);
      std::vector<std::atomic<int>> hits(static_cast<size_t>(size));
      std::atomic<int> bad_chunks{0};
      parallel_for(r.begin, r.end, r.grain, [&](int64_t b, int64_t e) {
        if (b >= e || b < r.begin || e > r.end) bad_chunks.fetch_add(1);
        for (int64_t i = std::max(b, r.begin); i < std::min(e, r.end); ++i) {
          hits[static_cast<size_t>(i - r.begin)].fetch_add(1);
        }
      });
      EXPECT_EQ(bad_chunks.load(), 0) << r << ", " << threads << " threads";
      int64_t wrong = 0;
      for (auto& h : hits) wrong += h.load() != 1;
      EXPECT_EQ(wrong, 0) << r << ", " << threads << " threads";
    }
  }
}

TEST_F(ParallelFor, ChunksAreAtLeastTheGrainExceptTheLast) {
  for (int threads : kThreadCounts) {
    ScopedNumThreads n(threads);
    for (const Range& r : kRanges) {
      if (r.grain == 0 || r.begin >= r.end) continue;
      const Chunks chunks = chunks_of(r);
      ASSERT_FALSE(chunks.empty()) << r;
      for (size_t i = 0; i + 1 < chunks.size(); ++i) {
        EXPECT_GE(chunks[i].second - chunks[i].first, r.grain)
            << r << ", " << threads << " threads: chunk [" << chunks[i].first << ", "
            << chunks[i].second << ") of " << chunks.size();
      }
    }
  }
}

TEST_F(ParallelFor, SplitsIntoAsManyChunksAsThreads) {
  ScopedNumThreads n(3);
  EXPECT_EQ(chunks_of({0, 300, 1}).size(), 3u);
  EXPECT_EQ(chunks_of({0, 300, 0}).size(), 3u);
}

TEST_F(ParallelFor, NegativeGrainIsAValueError) {
  bool ran = false;
  EXPECT_THROW(parallel_for(0, 10, -1, [&](int64_t, int64_t) { ran = true; }), ValueError);
  EXPECT_FALSE(ran);
}

TEST_F(ParallelFor, OneThreadRunsInlineInOneCall) {
  ScopedNumThreads n(1);
  const auto caller = std::this_thread::get_id();
  Chunks calls;
  std::thread::id ran_on;
  parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
    calls.emplace_back(b, e);
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(calls, (Chunks{{0, 1000}}));
  EXPECT_EQ(ran_on, caller);
}

TEST_F(ParallelFor, RangeOfOneGrainRunsInline) {
  ScopedNumThreads n(4);
  const auto caller = std::this_thread::get_id();
  Chunks calls;
  std::thread::id ran_on;
  parallel_for(10, 20, 10, [&](int64_t b, int64_t e) {
    calls.emplace_back(b, e);
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(calls, (Chunks{{10, 20}}));
  EXPECT_EQ(ran_on, caller);
}

// set_num_threads(n) must give n threads that run at once: each of n chunks
// waits for all the others.
TEST_F(ParallelFor, RunsAsManyChunksAtOnceAsThreadsAreSet) {
  for (int threads : {2, 4}) {
    ScopedNumThreads n(threads);
    Rendezvous all(threads);
    std::atomic<int> met{0};
    parallel_for(0, threads, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) met.fetch_add(all.arrive_and_wait() ? 1 : 0);
    });
    EXPECT_EQ(met.load(), threads) << threads << " threads did not all run at once";
  }
}

TEST_F(ParallelFor, ExceptionInABodyReachesTheCallerWithItsType) {
  ScopedNumThreads n(4);
  try {
    parallel_for(0, 1000, 1, [](int64_t b, int64_t e) {
      if (b <= 500 && 500 < e) throw ValueError("index 500 is bad");
    });
    ADD_FAILURE() << "parallel_for returned normally";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "index 500 is bad");
  }
}

TEST_F(ParallelFor, NestedInsideAChunkRunsInline) {
  ScopedNumThreads n(2);
  std::atomic<int> bad{0};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    if (!in_parallel_region()) bad.fetch_add(1);
    const auto me = std::this_thread::get_id();
    int calls = 0;
    parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
      ++calls;
      if (std::this_thread::get_id() != me || b != 0 || e != 1000) bad.fetch_add(1);
    });
    if (calls != 1) bad.fetch_add(1);
  });
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(ParallelFor, NestedInsideALaunchedTaskRunsInline) {
  struct Result {
    bool region = false;
    Chunks calls;
    bool same_thread = true;
  };
  const Result r = launch([] {
                     Result out;
                     out.region = in_parallel_region();
                     const auto me = std::this_thread::get_id();
                     parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
                       out.calls.emplace_back(b, e);
                       out.same_thread = out.same_thread && std::this_thread::get_id() == me;
                     });
                     return out;
                   }).get();
  EXPECT_TRUE(r.region);
  EXPECT_EQ(r.calls, (Chunks{{0, 1000}}));
  EXPECT_TRUE(r.same_thread);
}

// ---- parallel_reduce ----------------------------------------------------------------

class ParallelReduce : public ParallelTest {};

TEST_F(ParallelReduce, SumsCorrectly) {
  for (int threads : kThreadCounts) {
    ScopedNumThreads n(threads);
    for (const Range& r : kRanges) {
      const int64_t sum = parallel_reduce(
          r.begin, r.end, r.grain, int64_t{0},
          [](int64_t b, int64_t e, int64_t acc) {
            for (int64_t i = b; i < e; ++i) acc += i;
            return acc;
          },
          [](int64_t a, int64_t b) { return a + b; });
      int64_t expected = 0;
      for (int64_t i = r.begin; i < r.end; ++i) expected += i;
      EXPECT_EQ(sum, expected) << r << ", " << threads << " threads";
    }
  }
}

TEST_F(ParallelReduce, CombinesInChunkOrder) {
  for (int threads : kThreadCounts) {
    ScopedNumThreads n(threads);
    for (const Range& r : kRanges) {
      if (r.end - r.begin > 5000) continue;
      using V = std::vector<int64_t>;
      const V got = parallel_reduce(
          r.begin, r.end, r.grain, V{},
          [](int64_t b, int64_t e, V acc) {
            for (int64_t i = b; i < e; ++i) acc.push_back(i);
            return acc;
          },
          [](V a, const V& b) {
            a.insert(a.end(), b.begin(), b.end());
            return a;
          });
      V expected;
      for (int64_t i = r.begin; i < r.end; ++i) expected.push_back(i);
      EXPECT_EQ(got, expected) << r << ", " << threads << " threads";
    }
  }
}

// Each chunk is a piece of work that starts from the caller's state, whatever
// the chunk before it on the same thread did.
TEST_F(ParallelReduce, EachPieceStartsFromTheCallersState) {
  ScopedNumThreads n(2);
  std::atomic<int> dirty{0};
  parallel_reduce(
      0, 64, 1, 0,
      [&](int64_t, int64_t, int) {
        if (!GradMode::is_enabled() || slot_value() != -1) dirty.fetch_add(1);
        GradMode::set_enabled(false);
        return 0;
      },
      [](int a, int b) { return a + b; });
  EXPECT_EQ(dirty.load(), 0) << "pieces saw what an earlier piece on their thread left";
}

TEST_F(ParallelReduce, EmptyRangeGivesTheIdentity) {
  bool ran = false;
  const int v = parallel_reduce(
      7, 7, 1, 42,
      [&](int64_t, int64_t, int) {
        ran = true;
        return 0;
      },
      [](int a, int b) { return a + b; });
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(ran);
}

TEST_F(ParallelReduce, NegativeGrainIsAValueError) {
  EXPECT_THROW(parallel_reduce(
                   0, 10, -2, 0, [](int64_t, int64_t, int) { return 0; },
                   [](int a, int b) { return a + b; }),
               ValueError);
}

TEST_F(ParallelReduce, ExceptionInAChunkReachesTheCaller) {
  ScopedNumThreads n(4);
  EXPECT_THROW(parallel_reduce(
                   0, 100, 1, 0,
                   [](int64_t b, int64_t, int) -> int {
                     if (b >= 50) throw IndexError("chunk past 50");
                     return 0;
                   },
                   [](int a, int b) { return a + b; }),
               IndexError);
}

// ---- launch and Future ----------------------------------------------------------------

class Launch : public ParallelTest {};

TEST_F(Launch, GetReturnsTheValue) {
  auto f = launch([] { return std::string("done"); });
  EXPECT_EQ(f.get(), "done");
  EXPECT_TRUE(f.ready());
  EXPECT_EQ(f.get(), "done") << "get() can be called again";
}

TEST_F(Launch, RunsOnAPoolThreadWhenNobodyWaits) {
  const auto caller = std::this_thread::get_id();
  EXPECT_NE(get_from_pool(launch([] { return std::this_thread::get_id(); })), caller);
}

TEST_F(Launch, AWaiterRunsATaskNoWorkerHasStartedUnderItsLaunchState) {
  // Keep every inter-op worker busy, so no worker can start the next task.
  const int workers = get_num_interop_threads();
  std::latch started(workers);
  std::latch release(1);
  std::vector<Future<void>> busy;
  for (int i = 0; i < workers; ++i) {
    busy.push_back(launch([&] {
      started.count_down();
      release.wait();
    }));
  }
  started.wait();
  const auto caller = std::this_thread::get_id();
  auto f = [] {
    NoGradGuard no_grad;
    IncludeDispatchKeyGuard inc(K::Tracer);
    return launch([] {
      return std::make_tuple(std::this_thread::get_id(), seen_here(), in_parallel_region());
    });
  }();
  const auto [ran_on, seen, in_region] = f.get();
  release.count_down();
  for (auto& b : busy) b.get();
  EXPECT_EQ(ran_on, caller);
  Seen launched;
  launched.grad = false;
  launched.included = DispatchKeySet(K::Tracer).raw();
  EXPECT_EQ(seen, launched);
  EXPECT_TRUE(in_region) << "a task run by its waiter is still pool work";
}

TEST_F(Launch, ATaskLaunchedFromATaskCanBeAwaitedWithOneInteropThread) {
  ScopedNumInteropThreads one(1);
  EXPECT_EQ(launch([] { return launch([] { return 4; }).get() + 1; }).get(), 5);
}

TEST_F(Launch, FutureOfVoidWorks) {
  std::atomic<int> ran{0};
  Future<void> f = launch([&] { ran.fetch_add(1); });
  f.wait();
  EXPECT_TRUE(f.ready());
  f.get();
  EXPECT_EQ(ran.load(), 1);
}

TEST_F(Launch, ReadyOnlyOnceTheTaskFinished) {
  std::latch release(1);
  auto f = launch([&] {
    release.wait();
    return 5;
  });
  EXPECT_FALSE(f.ready());
  release.count_down();
  EXPECT_EQ(f.get(), 5);
  EXPECT_TRUE(f.ready());
}

TEST_F(Launch, CopiesShareOneResult) {
  std::atomic<int> runs{0};
  auto f = launch([&] { return runs.fetch_add(1) + 10; });
  const auto g = f;
  EXPECT_EQ(g.get(), 10);
  EXPECT_EQ(f.get(), 10);
  EXPECT_EQ(runs.load(), 1);
}

TEST_F(Launch, ExceptionRethrowsFromGetWithItsTypeAndMessage) {
  auto f = launch([]() -> int { throw IndexError("task 7 failed"); });
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      f.get();
      ADD_FAILURE() << "get() returned";
    } catch (const IndexError& e) {
      EXPECT_STREQ(e.what(), "task 7 failed");
    }
  }
  EXPECT_TRUE(f.ready());
}

TEST_F(Launch, NonSwitchyardExceptionKeepsItsType) {
  auto f = launch([]() -> int { throw std::out_of_range("plain"); });
  EXPECT_THROW(f.get(), std::out_of_range);
}

TEST_F(Launch, ThenChainsValues) {
  auto f = launch([] { return 2; }).then([](int x) { return x * 3; }).then([](int x) {
    return std::to_string(x + 1);
  });
  EXPECT_EQ(f.get(), "7");
}

TEST_F(Launch, ThenOnAFutureOfVoid) {
  std::atomic<int> order{0};
  auto f = launch([&] { order.store(1); }).then([&] { return order.load() * 10; });
  EXPECT_EQ(f.get(), 10);
}

TEST_F(Launch, ThenAfterAPendingFailureFailsTooWithoutRunningFn) {
  std::latch release(1);
  std::atomic<bool> ran{false};
  auto failed = launch([&]() -> int {
    release.wait();
    throw ValueError("first failed");
  });
  auto next = failed.then([&](int) {
    ran.store(true);
    return 1;
  });
  release.count_down();
  try {
    next.get();
    ADD_FAILURE() << "get() returned";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "first failed");
  }
  EXPECT_FALSE(ran.load());
}

TEST_F(Launch, ThenAfterAReadyFailureFailsTooWithoutRunningFn) {
  std::atomic<bool> ran{false};
  auto failed = launch([]() { throw TypeError("first failed"); });
  failed.wait();
  auto next = failed.then([&] { ran.store(true); });
  EXPECT_THROW(next.get(), TypeError);
  EXPECT_FALSE(ran.load());
}

TEST_F(Launch, ThrowingContinuationFailsItsFuture) {
  auto next = launch([] { return 1; }).then([](int) -> int { throw ValueError("in then"); });
  EXPECT_THROW(next.get(), ValueError);
}

TEST_F(Launch, NestedTaskCanBeAwaited) {
  ScopedNumInteropThreads n(std::max(2, get_num_interop_threads()));
  EXPECT_EQ(launch([] { return launch([] { return 4; }).get() + 1; }).get(), 5);
}

// ---- state propagation: every piece, every way -----------------------------------------

enum class Piece { IncludedKey, ExcludedKey, GradOff, Inference, SlotValue, All };
enum class Way {
  Launch,
  LaunchOnWorker,
  ParallelFor,
  ParallelReduce,
  NestedLaunch,
  ParallelForInTask,
  ThenPending,
  ThenReady
};

std::string name(Piece p) {
  static const char* const names[] = {"IncludedKey",   "ExcludedKey", "GradOff",
                                      "InferenceMode", "SlotValue",   "All"};
  return names[static_cast<int>(p)];
}
std::string name(Way w) {
  static const char* const names[] = {"Launch",         "LaunchOnWorker", "ParallelFor",
                                      "ParallelReduce", "NestedLaunch",   "ParallelForInTask",
                                      "ThenPending",    "ThenReady"};
  return names[static_cast<int>(w)];
}
void PrintTo(Piece p, std::ostream* os) { *os << name(p); }
void PrintTo(Way w, std::ostream* os) { *os << name(w); }

// Calls body() with `piece` of state set on the calling thread.
template <typename F>
void with_piece(Piece piece, F body) {
  const bool all = piece == Piece::All;
  std::optional<IncludeDispatchKeyGuard> inc;
  std::optional<ExcludeDispatchKeyGuard> exc;
  std::optional<NoGradGuard> no_grad;
  std::optional<InferenceMode> inference;
  std::optional<ScopedSlotValue> slot;
  if (all || piece == Piece::IncludedKey) inc.emplace(K::Tracer);
  if (all || piece == Piece::ExcludedKey) exc.emplace(K::Python);
  if (all || piece == Piece::GradOff) no_grad.emplace();
  if (all || piece == Piece::Inference) inference.emplace();
  if (all || piece == Piece::SlotValue) slot.emplace(42);
  body();
}

// What the work saw when run `way` from the calling thread: one entry a piece
// of work (a task, a chunk). `clean` is a state unlike the caller's, for the
// task a continuation follows.
std::vector<Seen> run(Way way, const ThreadLocalState& clean) {
  switch (way) {
    case Way::Launch:  // get() usually runs the task here, as no worker started it yet
      return {launch([] { return seen_here(); }).get()};
    case Way::LaunchOnWorker: return {get_from_pool(launch([] { return seen_here(); }))};
    case Way::ParallelFor: {
      // Two chunks that wait for each other: one of them runs on a worker.
      ScopedNumThreads n(2);
      Rendezvous both(2);
      std::mutex mu;
      std::vector<Seen> seen;
      std::set<std::thread::id> threads;
      parallel_for(0, 2, 1, [&](int64_t, int64_t) {
        const Seen s = seen_here();
        {
          std::lock_guard<std::mutex> lock(mu);
          seen.push_back(s);
          threads.insert(std::this_thread::get_id());
        }
        EXPECT_TRUE(both.arrive_and_wait());
      });
      EXPECT_EQ(threads.size(), 2u) << "both chunks ran on one thread";
      return seen;
    }
    case Way::ParallelReduce: {
      ScopedNumThreads n(2);
      Rendezvous both(2);
      using V = std::vector<Seen>;
      return parallel_reduce(
          0, 2, 1, V{},
          [&](int64_t, int64_t, V acc) {
            acc.push_back(seen_here());
            EXPECT_TRUE(both.arrive_and_wait());
            return acc;
          },
          [](V a, const V& b) {
            a.insert(a.end(), b.begin(), b.end());
            return a;
          });
    }
    case Way::NestedLaunch: {
      ScopedNumInteropThreads n(std::max(2, get_num_interop_threads()));
      return {launch([] { return launch([] { return seen_here(); }).get(); }).get()};
    }
    case Way::ParallelForInTask:
      return launch([] {
               std::vector<Seen> seen;
               parallel_for(0, 100, 1, [&](int64_t, int64_t) { seen.push_back(seen_here()); });
               return seen;
             })
          .get();
    case Way::ThenPending: {
      std::latch release(1);
      auto base = [&] {
        ThreadLocalStateGuard other(clean);
        return launch([&] {
          release.wait();
          return 1;
        });
      }();
      auto next = base.then([](int) { return seen_here(); });
      release.count_down();
      return {next.get()};
    }
    case Way::ThenReady: {
      auto base = [&] {
        ThreadLocalStateGuard other(clean);
        return launch([] { return 1; });
      }();
      base.wait();
      return {base.then([](int) { return seen_here(); }).get()};
    }
  }
  return {};
}

class StatePropagation : public ParallelTest,
                         public ::testing::WithParamInterface<std::tuple<Piece, Way>> {};

TEST_P(StatePropagation, WorkSeesTheCallersState) {
  const auto [piece, way] = GetParam();
  const ThreadLocalState clean;
  with_piece(piece, [&, way = way] {
    const Seen caller = seen_here();
    ASSERT_NE(caller, Seen{}) << "the piece must change something";
    const std::vector<Seen> seen = run(way, clean);
    ASSERT_FALSE(seen.empty());
    for (const Seen& s : seen) EXPECT_EQ(s, caller);
    EXPECT_EQ(seen_here(), caller) << "the caller's state changed";
  });
}

INSTANTIATE_TEST_SUITE_P(
    EveryPieceEveryWay, StatePropagation,
    ::testing::Combine(::testing::Values(Piece::IncludedKey, Piece::ExcludedKey, Piece::GradOff,
                                         Piece::Inference, Piece::SlotValue, Piece::All),
                       ::testing::Values(Way::Launch, Way::LaunchOnWorker, Way::ParallelFor,
                                         Way::ParallelReduce, Way::NestedLaunch,
                                         Way::ParallelForInTask, Way::ThenPending, Way::ThenReady)),
    [](const ::testing::TestParamInfo<std::tuple<Piece, Way>>& info) {
      return name(std::get<0>(info.param)) + "_" + name(std::get<1>(info.param));
    });

class Continuation : public ParallelTest {};

TEST_F(Continuation, SeesTheStateOfTheThreadCallingThenNotTheTasks) {
  // Three different states: the task's (Tracer included), the one then() is
  // called under (grad off), and the finishing worker's own (the defaults).
  std::latch release(1);
  Future<Seen> task = [&] {
    IncludeDispatchKeyGuard inc(K::Tracer);
    return launch([&] {
      release.wait();
      return seen_here();
    });
  }();
  Future<std::pair<Seen, Seen>> next = [&] {
    NoGradGuard no_grad;
    return task.then([](const Seen& in_task) { return std::make_pair(in_task, seen_here()); });
  }();
  release.count_down();
  const auto [in_task, in_continuation] = next.get();
  Seen task_state, then_state;
  task_state.included = DispatchKeySet(K::Tracer).raw();
  then_state.grad = false;
  EXPECT_EQ(in_task, task_state);
  EXPECT_EQ(in_continuation, then_state);
}

TEST_F(Continuation, SlotChangedInATaskDoesNotReachTheCaller) {
  ScopedSlotValue mine(1);
  launch([] {
    dynamic_cast<ValueSlot&>(*slot_accessor(kSlot)).value = 99;
    const ValueSlot other(100);
    set_slot(kSlot, &other);
    return 0;
  }).get();
  EXPECT_EQ(slot_value(), 1);
}

// ---- no leaks from one task to the next ----------------------------------------------

class NoLeaks : public ParallelTest {};

// Runs the task a() launches to completion, then the one b() launches, with
// one inter-op thread, retrying until both ran on the same worker; returns
// what b's task saw, or nullopt if the two never shared a worker.
template <typename A, typename B>
std::optional<Seen> run_pair_on_one_worker(A a, B b) {
  ScopedNumInteropThreads one(1);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::thread::id ta = get_from_pool(a());
    const auto [tb, seen] = get_from_pool(b());
    if (ta == tb) return seen;
  }
  return std::nullopt;
}

TEST_F(NoLeaks, WorkerDoesNotCarryTheCallersNoGradToTheNextTask) {
  const auto seen = run_pair_on_one_worker(
      [] {
        NoGradGuard no_grad;
        InferenceMode inference;
        IncludeDispatchKeyGuard inc(K::Tracer);
        ScopedSlotValue slot(7);
        return launch([] { return std::this_thread::get_id(); });
      },
      [] {
        return launch([] { return std::make_pair(std::this_thread::get_id(), seen_here()); });
      });
  ASSERT_TRUE(seen.has_value()) << "the two tasks never ran on the same worker";
  EXPECT_EQ(*seen, Seen{});
}

TEST_F(NoLeaks, WorkerDoesNotCarryWhatATaskSetToTheNextTask) {
  const auto seen = run_pair_on_one_worker(
      [] {
        return launch([] {
          GradMode::set_enabled(false);
          tls_set_dispatch_key_included(K::Tracer, true);
          tls_set_dispatch_key_excluded(K::Python, true);
          const ValueSlot s(8);
          set_slot(kSlot, &s);
          return std::this_thread::get_id();
        });
      },
      [] {
        return launch([] { return std::make_pair(std::this_thread::get_id(), seen_here()); });
      });
  ASSERT_TRUE(seen.has_value()) << "the two tasks never ran on the same worker";
  EXPECT_EQ(*seen, Seen{});
}

// The caller runs chunks of its own parallel_for: what a chunk changes on its
// thread must not stay behind on the caller.
TEST_F(NoLeaks, WhatAChunkSetsDoesNotStayOnTheCaller) {
  ScopedNumThreads n(2);
  Rendezvous both(2);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> on_caller{0};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    if (std::this_thread::get_id() == caller) on_caller.fetch_add(1);
    GradMode::set_enabled(false);
    tls_set_dispatch_key_included(K::Tracer, true);
    const ValueSlot s(3);
    set_slot(kSlot, &s);
    EXPECT_TRUE(both.arrive_and_wait());
  });
  ASSERT_EQ(on_caller.load(), 1) << "the caller ran none of the chunks";
  const Seen after = seen_here();
  set_slot(kSlot, nullptr);  // so TearDown reports only what this test checks
  EXPECT_EQ(after, Seen{});
}

TEST_F(NoLeaks, ChunksOfALaterParallelForDoNotSeeAnEarlierCallersState) {
  ScopedNumThreads n(2);
  {
    NoGradGuard no_grad;
    ScopedSlotValue slot(5);
    parallel_for(0, 64, 1, [](int64_t, int64_t) {});
  }
  std::mutex mu;
  std::vector<Seen> seen;
  parallel_for(0, 64, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(seen_here());
  });
  for (const Seen& s : seen) EXPECT_EQ(s, Seen{});
}

// ---- thread counts ----------------------------------------------------------------

class ThreadCounts : public ParallelTest {};

TEST_F(ThreadCounts, SetAndGet) {
  {
    ScopedNumThreads n(3);
    ScopedNumInteropThreads m(2);
    EXPECT_EQ(get_num_threads(), 3);
    EXPECT_EQ(get_num_interop_threads(), 2);
  }
  EXPECT_GE(get_num_threads(), 1);
}

TEST_F(ThreadCounts, BelowOneIsAValueError) {
  const int before = get_num_threads();
  EXPECT_THROW(set_num_threads(0), ValueError);
  EXPECT_THROW(set_num_interop_threads(-1), ValueError);
  EXPECT_EQ(get_num_threads(), before);
}

TEST_F(ThreadCounts, DefaultIsTheHardwareThreads) {
  if (std::getenv("SY_NUM_THREADS") != nullptr || std::getenv("SY_NUM_INTEROP_THREADS")) {
    GTEST_SKIP() << "thread counts set in the environment";
  }
  const int hw = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(get_num_threads(), hw);
  EXPECT_EQ(get_num_interop_threads(), hw);
}

// The environment is read once, when the pools are made: this test runs itself
// again as a child process with the variables set, and the child checks them.
int run_self_with(const std::vector<std::string>& env_add) {
  std::vector<std::string> env_strings(env_add);
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var(*e);
    if (var.rfind("SY_NUM_", 0) == 0 || var.rfind("GTEST_", 0) == 0) continue;
    env_strings.push_back(var);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::string filter = "--gtest_filter=ThreadCounts.FollowEnvironment";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, envp.data()) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(ThreadCounts, FollowEnvironment) {
  if (const char* expected = std::getenv("SY_TEST_EXPECTED_THREADS")) {
    // The child: the variables were set before anything asked for a count.
    const std::string want(expected);
    if (want == "error") {
      EXPECT_THROW(get_num_threads(), ValueError);
    } else {
      EXPECT_EQ(get_num_threads(), std::stoi(want));
      EXPECT_EQ(get_num_interop_threads(), std::stoi(want) + 1);
      EXPECT_EQ(launch([] { return 1; }).get(), 1);
    }
    return;
  }
  EXPECT_EQ(
      run_self_with({"SY_NUM_THREADS=3", "SY_NUM_INTEROP_THREADS=4", "SY_TEST_EXPECTED_THREADS=3"}),
      0);
  EXPECT_EQ(run_self_with({"SY_NUM_THREADS=lots", "SY_TEST_EXPECTED_THREADS=error"}), 0);
}

}  // namespace
}  // namespace sy
