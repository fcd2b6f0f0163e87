#include "switchyard/parallel/parallel.h"

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

// Note [Telling ThreadSanitizer about TBB's handoffs]
// Debian's oneTBB is not built with ThreadSanitizer, so TSan cannot see that
// handing a task to a worker orders what the caller wrote before what the task
// reads. Under TSan the handoffs below are declared as release/acquire pairs;
// races inside TBB itself are suppressed in tests/tsan.supp.
#if defined(__SANITIZE_THREAD__)
#define SY_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SY_TSAN 1
#endif
#endif
#ifdef SY_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define SY_TSAN_ACQUIRE(p) __tsan_acquire(const_cast<void*>(static_cast<const void*>(p)))
#define SY_TSAN_RELEASE(p) __tsan_release(const_cast<void*>(static_cast<const void*>(p)))
#else
#define SY_TSAN_ACQUIRE(p) ((void)(p))
#define SY_TSAN_RELEASE(p) ((void)(p))
#endif

namespace sy {

namespace detail {
constinit thread_local bool tls_in_parallel_region
    SY_TLS_MODEL = false;
}  // namespace detail

namespace {

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int threads_from_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return hardware_threads();
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  SY_CHECK(end != value && *end == '\0' && n >= 1 && n <= 4096, ValueError,
           "{}={}: expected a whole number of threads between 1 and 4096", name, value);
  return static_cast<int>(n);
}

// A pool of `threads` slots that only TBB's workers fill (none is kept for
// the caller), so enqueued work runs even when nobody waits in the arena.
// Arenas replaced by set_num_threads are kept: work may still be running in
// them, and replacing is rare.
class Pool {
 public:
  Pool(const char* env_name, bool reserve_for_caller) : reserve_(reserve_for_caller) {
    resize(threads_from_env(env_name));
  }

  int threads() const { return threads_.load(std::memory_order_acquire); }

  void resize(int n) {
    SY_CHECK(n >= 1, ValueError, "the number of threads must be at least 1, got {}", n);
    std::lock_guard<std::mutex> lock(mu_);
    // Let TBB run more workers than hardware threads when asked to.
    control_ = std::make_unique<oneapi::tbb::global_control>(
        oneapi::tbb::global_control::max_allowed_parallelism,
        static_cast<size_t>(std::max(n + 1, hardware_threads())));
    auto arena = std::make_unique<oneapi::tbb::task_arena>(n, reserve_ ? 1 : 0);
    arena->initialize();
    arena_.store(arena.get(), std::memory_order_release);
    arenas_.push_back(std::move(arena));
    threads_.store(n, std::memory_order_release);
  }

  oneapi::tbb::task_arena& arena() { return *arena_.load(std::memory_order_acquire); }

 private:
  const bool reserve_;
  std::mutex mu_;
  std::unique_ptr<oneapi::tbb::global_control> control_;
  std::atomic<oneapi::tbb::task_arena*> arena_{nullptr};
  // Every arena made, the current one last: replaced ones may still run work.
  std::vector<std::unique_ptr<oneapi::tbb::task_arena>> arenas_;
  std::atomic<int> threads_{1};
};

// Never destroyed: work may run while static destructors do.
Pool& intra_op() {
  static Pool* p = new Pool("SY_NUM_THREADS", /*reserve_for_caller=*/true);
  return *p;
}
Pool& inter_op() {
  static Pool* p = new Pool("SY_NUM_INTEROP_THREADS", /*reserve_for_caller=*/false);
  return *p;
}

}  // namespace

int get_num_threads() { return intra_op().threads(); }
void set_num_threads(int n) { intra_op().resize(n); }
int get_num_interop_threads() { return inter_op().threads(); }
void set_num_interop_threads(int n) { inter_op().resize(n); }

namespace detail {

void parallel_for_impl(int64_t begin, int64_t end, int64_t grain,
                       FunctionRef<void(int64_t, int64_t)> f) {
  // As many chunks as threads, each at least `grain` long.
  const int64_t range = end - begin;
  const int64_t max_chunks = grain > 0 ? std::max<int64_t>(1, range / grain) : range;
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), max_chunks));
  const int64_t chunk = (range + chunks - 1) / chunks;
  const ThreadLocalState state;
  int done_token = 0;
  SY_TSAN_RELEASE(&state);
  intra_op().arena().execute([&] {
    oneapi::tbb::parallel_for(
        oneapi::tbb::blocked_range<int64_t>(0, chunks, 1),
        [&](const oneapi::tbb::blocked_range<int64_t>& r) {
          SY_TSAN_ACQUIRE(&state);
          struct ReleaseAtEnd {
            int* token;
            ~ReleaseAtEnd() { SY_TSAN_RELEASE(token); }
          } release_at_end{&done_token};
          ThreadLocalStateGuard guard(state);
          detail::ParallelRegion region;
          for (int64_t c = r.begin(); c < r.end(); ++c) {
            const int64_t b = begin + c * chunk;
            if (b < end) f(b, std::min(end, b + chunk));
          }
        },
        oneapi::tbb::simple_partitioner());
  });
  SY_TSAN_ACQUIRE(&done_token);
}

void enqueue_interop(std::function<void()> task) {
#ifdef SY_TSAN
  auto box = std::make_shared<std::function<void()>>(std::move(task));
  SY_TSAN_RELEASE(box.get());
  inter_op().arena().enqueue([box] {
    SY_TSAN_ACQUIRE(box.get());
    (*box)();
  });
#else
  inter_op().arena().enqueue(std::move(task));
#endif
}

}  // namespace detail
}  // namespace sy
