#include "switchyard/parallel/parallel.h"

#include <atomic>
#include <cstdlib>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include "switchyard/core/intrusive_ptr.h"

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
constinit thread_local bool tls_in_parallel_region SY_TLS_MODEL = false;
}  // namespace detail

namespace {

// Pool workers make objects that mostly die on other threads (a launched task's
// result) while the worker sleeps, so they never own any: what they make is
// counted atomically and freed wherever it is dropped (Note [Biased reference
// counts]). A thread that waits in parallel_for and runs chunks keeps its bias.
void mark_pool_worker() {
  if (SY_UNLIKELY(detail::tls_ref_thread.id != detail::kRefUnbiased)) {
    detail::stop_biasing_this_thread();
  }
}

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

// The intra-op pool: a oneTBB arena of `threads` slots, one of them kept for
// the thread that calls parallel_for. Arenas replaced by set_num_threads are
// kept: work may still be running in them, and replacing is rare.
class Pool {
 public:
  explicit Pool(const char* env_name) { resize(threads_from_env(env_name)); }

  int threads() const { return threads_.load(std::memory_order_acquire); }

  void resize(int n) {
    SY_CHECK(n >= 1, ValueError, "the number of threads must be at least 1, got {}", n);
    std::lock_guard<std::mutex> lock(mu_);
    // Let TBB run more workers than hardware threads when asked to.
    control_ = std::make_unique<oneapi::tbb::global_control>(
        oneapi::tbb::global_control::max_allowed_parallelism,
        static_cast<size_t>(std::max(n + 1, hardware_threads())));
    auto arena = std::make_unique<oneapi::tbb::task_arena>(n, 1);
    arena->initialize();
    arena_.store(arena.get(), std::memory_order_release);
    arenas_.push_back(std::move(arena));
    threads_.store(n, std::memory_order_release);
  }

  oneapi::tbb::task_arena& arena() { return *arena_.load(std::memory_order_acquire); }

 private:
  std::mutex mu_;
  std::unique_ptr<oneapi::tbb::global_control> control_;
  std::atomic<oneapi::tbb::task_arena*> arena_{nullptr};
  // Every arena made, the current one last: replaced ones may still run work.
  std::vector<std::unique_ptr<oneapi::tbb::task_arena>> arenas_;
  std::atomic<int> threads_{1};
};

// Note [The inter-op pool]
// launch() has its own small pool rather than a oneTBB arena: a FIFO under a
// mutex, and workers that sleep on a condition variable as soon as it is empty.
// oneTBB's workers keep looking for work for a while after each task, which on
// a machine whose cores are all busy takes the core from the very thread that
// launched the task and now waits for it (or, Note [Waiting for a future], runs
// it). Submitting wakes one sleeping worker, if there is one. Shrinking lets
// the surplus workers end after their current task; growing starts new ones.
class InteropPool {
 public:
  explicit InteropPool(const char* env_name) { resize(threads_from_env(env_name)); }

  int threads() const { return target_.load(std::memory_order_acquire); }

  void resize(int n) {
    SY_CHECK(n >= 1, ValueError, "the number of threads must be at least 1, got {}", n);
    std::lock_guard<std::mutex> lock(mu_);
    target_.store(n, std::memory_order_release);
    while (running_ < n) {
      ++running_;
      std::thread([this] { work(); }).detach();
    }
    cv_.notify_all();  // surplus workers notice and end
  }

  void submit(std::function<void()> task) {
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
    const bool wake = idle_ > 0;
    lock.unlock();
    if (wake) cv_.notify_one();
  }

 private:
  void work() {
    mark_pool_worker();
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      while (queue_.empty() && running_ <= target_.load(std::memory_order_relaxed)) {
        ++idle_;
        cv_.wait(lock);
        --idle_;
      }
      if (running_ > target_.load(std::memory_order_relaxed)) {
        --running_;
        return;
      }
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      task = nullptr;  // what it holds is dropped before the next wait
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int running_ = 0;  // workers started and not ended
  int idle_ = 0;     // workers waiting on cv_
  std::atomic<int> target_{0};
};

// Never destroyed: work may run while static destructors do.
Pool& intra_op() {
  static Pool* p = new Pool("SY_NUM_THREADS");
  return *p;
}
InteropPool& inter_op() {
  static InteropPool* p = new InteropPool("SY_NUM_INTEROP_THREADS");
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
  const detail::RefThread* caller = &detail::tls_ref_thread;
  SY_TSAN_RELEASE(&state);
  intra_op().arena().execute([&] {
    oneapi::tbb::parallel_for(
        oneapi::tbb::blocked_range<int64_t>(0, chunks, 1),
        [&](const oneapi::tbb::blocked_range<int64_t>& r) {
          SY_TSAN_ACQUIRE(&state);
          if (&detail::tls_ref_thread != caller) mark_pool_worker();
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

// Note [Waiting for a future]
// Sleeping on a condition variable and being woken costs a few microseconds on
// an idle machine, and on a busy one the wake-up waits for a free core: far
// more than a trivial task. Future::wait therefore first runs the task itself
// if no worker has started it (FutureState::try_run). If a worker has, the
// waiter spins, but only while spinning pays: each thread keeps a budget of
// spin rounds (about a microsecond each: a few pause instructions between
// checks, and a sched_yield every few rounds so that a task waiting for this
// core gets it). A wait that ends while spinning doubles the budget (up to
// kMaxSpinRounds), one that has to sleep halves it; so where tasks finish
// quickly the waiter never sleeps, and where they do not (the machine is busy,
// or tasks are long) it soon goes straight to sleep and leaves the cores to
// the work. One round always stays, so that the budget can grow back.
namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
constexpr uint32_t kMaxSpinRounds = 64;
constexpr uint32_t kPausesPerRound = 16;
constexpr uint32_t kRoundsPerYield = 4;
constinit thread_local uint32_t tls_spin_rounds = 16;
}  // namespace

bool spin_while_it_pays(const std::atomic<bool>& done) {
  const uint32_t rounds = tls_spin_rounds;
  for (uint32_t r = 0; r < rounds; ++r) {
    for (uint32_t k = 0; k < kPausesPerRound; ++k) {
      if (done.load(std::memory_order_acquire)) {
        tls_spin_rounds = std::min(kMaxSpinRounds, 2 * rounds);
        return true;
      }
      cpu_relax();
    }
    if (r % kRoundsPerYield == kRoundsPerYield - 1) std::this_thread::yield();
  }
  tls_spin_rounds = std::max<uint32_t>(1, rounds / 2);
  return done.load(std::memory_order_acquire);
}

void enqueue_interop(std::function<void()> task) { inter_op().submit(std::move(task)); }

}  // namespace detail
}  // namespace sy
