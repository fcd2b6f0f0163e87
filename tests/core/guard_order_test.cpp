// Guards of per-thread state end in the reverse order they began, on their own
// thread (Note [Guards end in order]); a guard that ends otherwise changes
// nothing and throws, or reports while another exception unwinds.
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "switchyard/autograd/grad_mode.h"
#include "switchyard/core/error.h"
#include "switchyard/core/local_dispatch_key_set.h"
#include "switchyard/core/thread_local_state.h"

namespace sy {
namespace {

using K = DispatchKey;

DispatchKeySet excluded() { return tls_local_dispatch_key_set().excluded; }

// Ends `guard` (deletes it; raw pointers, as unique_ptr::reset is noexcept) and
// returns the message of the sy::Error it threw, or "".
template <typename G>
std::string end_guard(G*& guard) {
  G* g = guard;
  guard = nullptr;
  try {
    delete g;  // the memory is freed even when the destructor throws
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GuardOrder, GuardsEndingInOrderRestoreExactly) {
  {
    ExcludeDispatchKeyGuard a(K::CPU);
    {
      ExcludeDispatchKeyGuard b(K::Meta);
      EXPECT_TRUE(b.is_innermost());
      EXPECT_FALSE(a.is_innermost());
    }
    EXPECT_TRUE(a.is_innermost());
    EXPECT_EQ(excluded(), DispatchKeySet(K::CPU));
  }
  EXPECT_TRUE(excluded().empty());
}

TEST(GuardOrder, EndingOutOfOrderThrowsAndChangesNothing) {
  auto* outer = new ExcludeDispatchKeyGuard(K::CPU);
  auto* inner = new ExcludeDispatchKeyGuard(K::Meta);
  const std::string message = end_guard(outer);
  EXPECT_NE(message.find("ended out of order"), std::string::npos) << message;
  // Nothing restored: both keys still excluded; the inner guard still ends in order.
  EXPECT_EQ(excluded(), (DispatchKeySet{K::CPU, K::Meta}));
  EXPECT_EQ(end_guard(inner), "");
  EXPECT_EQ(excluded(), DispatchKeySet(K::CPU));  // what the inner guard found
  tls_set_dispatch_key_excluded(K::CPU, false);
}

TEST(GuardOrder, EveryKindOfGuardChecksItsOrder) {
  auto* outer = new AutoGradMode(false);
  {
    auto* inner_state = new ThreadLocalStateGuard(ThreadLocalState());
    auto* inference = new InferenceMode();
    EXPECT_NE(end_guard(inner_state).find("ThreadLocalStateGuard"), std::string::npos);
    EXPECT_TRUE(inference->is_innermost());
    EXPECT_EQ(end_guard(inference), "");
  }
  // The ThreadLocalStateGuard that threw never ended: the grad guard is not innermost.
  EXPECT_NE(end_guard(outer).find("AutoGradMode"), std::string::npos);
  GradMode::set_enabled(true);
}

TEST(GuardOrder, EndingOnAnotherThreadThrowsAndLeavesThatThreadAlone) {
  auto* guard = new IncludeDispatchKeyGuard(K::Tracer);
  std::string message;
  bool other_thread_untouched = false;
  std::thread t([&] {
    message = end_guard(guard);
    other_thread_untouched = tls_local_dispatch_key_set().included.empty();
  });
  t.join();
  EXPECT_NE(message.find("thread other than the one it began on"), std::string::npos) << message;
  EXPECT_TRUE(other_thread_untouched);
  EXPECT_TRUE(tls_is_dispatch_key_included(K::Tracer));  // this thread keeps the change
  tls_set_dispatch_key_included(K::Tracer, false);
}

TEST(GuardOrder, WhileUnwindingItReportsInsteadOfThrowing) {
  auto* outer = new ExcludeDispatchKeyGuard(K::CPU);
  ExcludeDispatchKeyGuard* leaked_inner = nullptr;
  testing::internal::CaptureStderr();
  try {
    struct EndsOuterDuringUnwinding {
      ExcludeDispatchKeyGuard* outer;
      ~EndsOuterDuringUnwinding() { delete outer; }  // reports: an exception is unwinding
    } ender{outer};
    leaked_inner = new ExcludeDispatchKeyGuard(K::Meta);
    throw std::runtime_error("unwinding");
  } catch (const std::runtime_error&) {
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("reported, not thrown"), std::string::npos) << err;
  delete leaked_inner;  // in order now: restores what it found (CPU excluded)
  EXPECT_EQ(excluded(), DispatchKeySet(K::CPU));
  tls_set_dispatch_key_excluded(K::CPU, false);
}

TEST(GuardOrder, SnapshotsDoNotCarryTheGuardCount) {
  ExcludeDispatchKeyGuard a(K::CPU);
  const ThreadLocalState captured;
  std::thread t([&] {
    ThreadLocalStateGuard installed(captured);
    EXPECT_TRUE(installed.is_innermost());
    ExcludeDispatchKeyGuard b(K::Meta);
    EXPECT_TRUE(b.is_innermost());
  });
  t.join();
  EXPECT_TRUE(a.is_innermost());
}

}  // namespace
}  // namespace sy
