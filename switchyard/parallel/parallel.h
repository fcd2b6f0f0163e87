// Work that follows the caller's state: intra-op parallel_for and
// parallel_reduce, and inter-op launch() returning a Future.
//
// Every piece of work runs under a ThreadLocalState captured on the calling
// thread (dispatch keys, grad and inference mode, extension slots), installed
// on the worker for exactly the length of that piece, so a no_grad block keeps
// applying on the pool and a worker never carries one task's state into the
// next. Exceptions thrown by the work reach the caller. Work already running
// on a pool thread (a launched task, or a chunk of a parallel_for) runs nested
// parallel_for calls inline. parallel_for runs on oneTBB; launch() on a small
// pool of its own (Note [The inter-op pool] in parallel.cpp).
//
// Thread counts: SY_NUM_THREADS / SY_NUM_INTEROP_THREADS in the environment, or
// set_num_threads() / set_num_interop_threads(); both default to the number
// of hardware threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "switchyard/core/error.h"
#include "switchyard/core/export.h"
#include "switchyard/core/thread_local_state.h"

namespace sy {

// Threads used by parallel_for / parallel_reduce.
SY_API int get_num_threads();
SY_API void set_num_threads(int n);
// Threads that run launch()ed tasks.
SY_API int get_num_interop_threads();
SY_API void set_num_interop_threads(int n);

namespace detail {
SY_API extern constinit thread_local bool tls_in_parallel_region SY_TLS_MODEL;

// A non-owning reference to a callable, for passing templates to compiled code.
template <typename Sig>
class FunctionRef;
template <typename R, typename... A>
class FunctionRef<R(A...)> {
 public:
  template <typename F>
  FunctionRef(const F& f)  // NOLINT: implicit, like std::function
      : obj_(&f), call_([](const void* o, A... a) -> R {
          return (*static_cast<const F*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  const void* obj_;
  R (*call_)(const void*, A...);
};

SY_API void parallel_for_impl(int64_t begin, int64_t end, int64_t grain,
                              FunctionRef<void(int64_t, int64_t)> f);
// Runs `task` on the inter-op pool.
SY_API void enqueue_interop(std::function<void()> task);

// enqueue_interop for any callable, move-only ones included (std::function
// needs a copyable one, so those travel behind a shared pointer).
template <typename F>
void enqueue(F&& f) {
  using D = std::decay_t<F>;
  if constexpr (std::is_copy_constructible_v<D>) {
    enqueue_interop(std::function<void()>(std::forward<F>(f)));
  } else {
    enqueue_interop([p = std::make_shared<D>(std::forward<F>(f))] { (*p)(); });
  }
}
}  // namespace detail

// Whether the calling thread is running pool work (a chunk or a launched task).
inline bool in_parallel_region() { return detail::tls_in_parallel_region; }

namespace detail {
// Marks pool work on this thread and restores the flag it found.
class ParallelRegion {
 public:
  ParallelRegion() : saved_(std::exchange(tls_in_parallel_region, true)) {}
  ~ParallelRegion() { tls_in_parallel_region = saved_; }
  ParallelRegion(const ParallelRegion&) = delete;
  ParallelRegion& operator=(const ParallelRegion&) = delete;

 private:
  bool saved_;
};

// Whether parallel work over [begin, end) should just run on the caller.
inline bool runs_inline(int64_t begin, int64_t end, int64_t grain) {
  return end - begin <= grain || tls_in_parallel_region || get_num_threads() == 1;
}
}  // namespace detail

// Calls f(chunk_begin, chunk_end) over [begin, end) split into chunks of at
// least `grain` elements, in parallel under the caller's state. Runs f(begin,
// end) inline when the range is one grain or less, when only one thread is
// set, or when called from pool work.
template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  SY_CHECK(grain >= 0, ValueError, "parallel_for: grain must be >= 0, got {}", grain);
  if (begin >= end) return;
  if (detail::runs_inline(begin, end, grain)) {
    f(begin, end);
    return;
  }
  detail::parallel_for_impl(begin, end, grain, f);
}

// Reduces [begin, end): each chunk computes f(chunk_begin, chunk_end, identity),
// and the chunks' results are folded with combine(a, b), starting from identity,
// in chunk order.
template <typename T, typename F, typename C>
T parallel_reduce(int64_t begin, int64_t end, int64_t grain, const T& identity, const F& f,
                  const C& combine) {
  SY_CHECK(grain >= 0, ValueError, "parallel_reduce: grain must be >= 0, got {}", grain);
  if (begin >= end) return identity;
  if (detail::runs_inline(begin, end, grain)) {
    return f(begin, end, identity);
  }
  const int64_t chunk = std::max<int64_t>(grain, 1);
  const int64_t n = (end - begin + chunk - 1) / chunk;
  std::vector<std::optional<T>> partial(static_cast<size_t>(n));
  const ThreadLocalState state;
  detail::parallel_for_impl(0, n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      ThreadLocalStateGuard guard(state);  // each piece starts from the caller's state
      const int64_t b = begin + i * chunk;
      partial[static_cast<size_t>(i)].emplace(f(b, std::min(end, b + chunk), identity));
    }
  });
  T result = identity;
  for (auto& p : partial) result = combine(result, *p);
  return result;
}

// ---- futures and launch ---------------------------------------------------------------

namespace detail {

// A move-only task: what launch() hands to the pool, run once.
class Task {
 public:
  Task() = default;
  template <typename F>
  explicit Task(F f) : holder_(std::make_unique<Holder<F>>(std::move(f))) {}
  void operator()() { holder_->run(); }
  explicit operator bool() const { return holder_ != nullptr; }
  void reset() { holder_.reset(); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void run() = 0;
  };
  template <typename F>
  struct Holder final : Base {
    explicit Holder(F f) : fn(std::move(f)) {}
    void run() override { fn(); }
    F fn;
  };
  std::unique_ptr<Base> holder_;
};

// Spins on `done` while spinning has been paying on this thread, yielding the
// core now and then; returns whether `done` was seen set (Note [Waiting for a
// future] in parallel.cpp).
SY_API bool spin_while_it_pays(const std::atomic<bool>& done);

template <typename T>
struct FutureState {
  std::mutex mu;
  std::condition_variable cv;
  // Set under `mu` (so waiters on `cv` cannot miss it), read without it.
  std::atomic<bool> done{false};
  std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
  std::exception_ptr error;
  std::vector<std::function<void()>> continuations;
  // A launch()ed task not yet started: whichever of a pool worker and a
  // waiter claims it first runs it. Futures made by then() have none.
  std::atomic<bool> claimed{true};
  Task task;

  // Runs the task here if nobody has claimed it; returns whether it did.
  bool try_run() {
    if (claimed.load(std::memory_order_relaxed) ||
        claimed.exchange(true, std::memory_order_acq_rel)) {
      return false;
    }
    Task t = std::move(task);
    t();
    return true;
  }

  void finish() {
    std::vector<std::function<void()>> run;
    {
      std::lock_guard<std::mutex> lock(mu);
      done.store(true, std::memory_order_release);
      run.swap(continuations);
    }
    cv.notify_all();
    for (auto& c : run) c();
  }
  // Runs `c` once the state is done (now, if it already is).
  void on_done(std::function<void()> c) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!done.load(std::memory_order_relaxed)) {
        continuations.push_back(std::move(c));
        return;
      }
    }
    c();
  }
};
}  // namespace detail

namespace detail {
// What then(fn) returns: fn() for a void future, fn(const T&) otherwise.
template <typename T, typename F>
struct ContinuationResult {
  using type = std::invoke_result_t<F&, const T&>;
};
template <typename F>
struct ContinuationResult<void, F> {
  using type = std::invoke_result_t<F&>;
};
}  // namespace detail

// The result of launch(): wait() for it, get() it (rethrowing the task's
// exception), or chain work with then(). Copies share one result.
template <typename T>
class Future {
 public:
  explicit Future(std::shared_ptr<detail::FutureState<T>> state) : state_(std::move(state)) {}

  bool ready() const { return state_->done.load(std::memory_order_acquire); }
  // Waits until the result is there. A launched task no worker has started yet
  // runs here, on the waiting thread, under the state it was launched with; one
  // already running is waited for by spinning only while spinning has paid on
  // this thread, then by sleeping (Note [Waiting for a future] in parallel.cpp).
  void wait() const {
    if (ready() || state_->try_run()) return;
    if (detail::spin_while_it_pays(state_->done)) return;
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->cv.wait(lock, [&] { return state_->done.load(std::memory_order_relaxed); });
  }
  // The task's result; rethrows the exception it threw. Waits first.
  std::add_lvalue_reference_t<const T> get() const {
    wait();
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<T>) return *state_->value;
  }

  // A future for fn(this future's value), run on the pool under the state of
  // the thread calling then(), once this future is done. If this future fails,
  // the new one fails with the same exception and fn does not run.
  template <typename F>
  auto then(F fn) const;

 private:
  std::shared_ptr<detail::FutureState<T>> state_;
};

namespace detail {
// Runs fn under `state` and stores its result (or exception) in `out`.
template <typename T, typename F>
void run_into(const ThreadLocalState& state, F& fn, FutureState<T>& out) {
  {
    ThreadLocalStateGuard guard(state);
    ParallelRegion region;
    try {
      if constexpr (std::is_void_v<T>) {
        fn();
        out.value = true;
      } else {
        out.value.emplace(fn());
      }
    } catch (...) {
      out.error = std::current_exception();
    }
  }
  out.finish();
}
}  // namespace detail

// Runs fn() on the inter-op pool under the calling thread's state; the Future
// holds its result or exception. If a thread waits for the future before any
// worker has started fn, that thread runs it instead (still under the state
// captured here, as pool work), so a busy pool or machine costs no wake-up.
template <typename F>
auto launch(F fn) -> Future<std::invoke_result_t<F&>> {
  using T = std::invoke_result_t<F&>;
  auto state = std::make_shared<detail::FutureState<T>>();
  detail::FutureState<T>* s = state.get();
  state->task = detail::Task([tls = ThreadLocalState(), fn = std::move(fn), s]() mutable {
    detail::run_into<T>(tls, fn, *s);
  });
  state->claimed.store(false, std::memory_order_relaxed);
  detail::enqueue_interop([state] { state->try_run(); });
  return Future<T>(std::move(state));
}

template <typename T>
template <typename F>
auto Future<T>::then(F fn) const {
  using U = typename detail::ContinuationResult<T, F>::type;
  auto next = std::make_shared<detail::FutureState<U>>();
  auto self = state_;
  auto continuation = [tls = ThreadLocalState(), fn = std::move(fn), self, next]() mutable {
    detail::enqueue([tls = std::move(tls), fn = std::move(fn), self, next]() mutable {
      if (self->error) {
        next->error = self->error;
        next->finish();
        return;
      }
      auto call = [&]() -> U {
        if constexpr (std::is_void_v<T>) {
          return fn();
        } else {
          return fn(*self->value);
        }
      };
      detail::run_into<U>(tls, call, *next);
    });
  };
  if constexpr (std::is_copy_constructible_v<decltype(continuation)>) {
    state_->on_done(std::move(continuation));
  } else {
    state_->on_done(
        [p = std::make_shared<decltype(continuation)>(std::move(continuation))] { (*p)(); });
  }
  return Future<U>(std::move(next));
}

}  // namespace sy
