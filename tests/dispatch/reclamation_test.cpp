// Kernels and tables removed while calls run are freed only after those calls
// end, including calls made while a thread exits, and their destructors run
// outside the dispatcher's lock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <thread>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

struct Alive {
  std::atomic<int64_t> magic{42};
  ~Alive() { magic = 0; }
};

std::latch* g_in_kernel = nullptr;
std::latch* g_removed = nullptr;
std::atomic<int64_t> g_exit_result{-1};

struct CallsAtThreadExit {
  ~CallsAtThreadExit() {
    const Tensor t = make_tensor({1}, kFloat32, kCPU);
    auto op = Dispatcher::singleton().find_op("recl_exit::f").typed<int64_t(const Tensor&)>();
    g_exit_result = op.call(t);
  }
};

TEST(Reclamation, CallFromAThreadLocalDestructorKeepsItsKernelAlive) {
  Library def(Library::DEF, "recl_exit");
  def.def("f(Tensor self) -> int");
  def.def("g(Tensor self) -> int");
  Library cpu(Library::IMPL, "recl_exit", DispatchKey::CPU);
  cpu.impl("g", [](const Tensor&) -> int64_t { return 0; });
  auto lib = std::make_unique<Library>(Library::IMPL, "recl_exit", DispatchKey::CPU);
  auto alive = std::make_shared<Alive>();
  lib->impl("f", [alive](const Tensor&) -> int64_t {
    g_in_kernel->count_down();
    g_removed->wait();
    return alive->magic.load();
  });
  alive.reset();
  std::latch in_kernel(1), removed(1);
  g_in_kernel = &in_kernel;
  g_removed = &removed;
  std::thread th([] {
    // Constructed before the thread's first call, so destroyed after the
    // switchyard's own thread-exit bookkeeping would be if it used a thread_local.
    thread_local CallsAtThreadExit at_exit;
    (void)&at_exit;
    const Tensor t = make_tensor({1}, kFloat32, kCPU);
    Dispatcher::singleton().find_op("recl_exit::g").typed<int64_t(const Tensor&)>().call(t);
  });
  in_kernel.wait();
  lib.reset();
  EXPECT_GT(detail::collect_retired(), 0u) << "the exiting thread's call must hold its table";
  removed.count_down();
  th.join();
  EXPECT_EQ(g_exit_result.load(), 42);
}

struct TouchesDispatcher {
  ~TouchesDispatcher() { (void)Dispatcher::singleton().op_names(); }
};

TEST(Reclamation, KernelDestructorMayCallTheDispatcher) {
  Library def(Library::DEF, "recl_dl");
  for (int i = 0; i < 80; ++i) def.def("f" + std::to_string(i) + "(Tensor self) -> Tensor");
  def.def("block(Tensor self) -> Tensor");
  std::latch in_call(1), release(1), done(1), exit_thread(1);
  Library blk(Library::IMPL, "recl_dl", DispatchKey::CPU);
  blk.impl("block", [&](const Tensor& t) {
    in_call.count_down();
    release.wait();
    return t;
  });
  auto lib = std::make_unique<Library>(Library::IMPL, "recl_dl", DispatchKey::Meta);
  auto holder = std::make_shared<TouchesDispatcher>();
  lib->impl("f0", [holder](const Tensor& t) { return t; });
  holder.reset();
  // Another thread is inside a call while the kernel is removed, so the old
  // table waits to be freed by a later registration.
  std::thread th([&] {
    const Tensor t = make_tensor({1}, kFloat32, kCPU);
    Dispatcher::singleton().find_op("recl_dl::block").typed<Tensor(const Tensor&)>().call(t);
    done.count_down();
    exit_thread.wait();
  });
  in_call.wait();
  lib.reset();
  release.count_down();
  done.wait();
  auto registration = std::async(std::launch::async, [] {
    Library fb(Library::IMPL, "_", DispatchKey::Batched);
    fb.fallback(CppFunction::fallthrough());  // rebuilds more than a batch of tables
  });
  const bool finished =
      registration.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  exit_thread.count_down();
  th.join();
  ASSERT_TRUE(finished) << "registration deadlocked on a kernel's destructor";
}

TEST(Reclamation, KernelTakingAVectorReferenceGetsAValueThatLastsTheCall) {
  Library def(Library::DEF, "recl_vec");
  def.def("sum(int[] xs, str name) -> int");
  Library impl(Library::IMPL, "recl_vec", DispatchKey::CompositeImplicitAutograd);
  impl.impl("sum", [](const std::vector<int64_t>& xs, const std::string& name) -> int64_t {
    int64_t s = static_cast<int64_t>(name.size());
    for (int64_t x : xs) s += x;
    return s;
  });
  auto op = Dispatcher::singleton()
                .find_op("recl_vec::sum")
                .typed<int64_t(IntArrayRef, std::string_view)>();
  const std::vector<int64_t> v(100, 1);
  EXPECT_EQ(op.call(v, "abc"), 103);
  Stack stack{IValue(v), IValue("ab")};
  Dispatcher::singleton().find_op("recl_vec::sum").call_boxed(stack);
  EXPECT_EQ(stack.back().to_int(), 102);
}

TEST(Reclamation, FallthroughAtAnAliasKeyIsRejected) {
  Library def(Library::DEF, "recl_ft");
  def.def("f(int x) -> int");
  Library ce(Library::IMPL, "recl_ft", DispatchKey::CompositeExplicitAutograd);
  EXPECT_THROW(ce.impl("f", CppFunction::fallthrough()), DispatchError);
}

TEST(Reclamation, CallWhoseKeysAllFallThroughIsAMissingKernelError) {
  Library def(Library::DEF, "recl_allft");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "recl_allft", DispatchKey::CPU);
  cpu.impl("f", CppFunction::fallthrough());
  try {
    Dispatcher::singleton()
        .find_op("recl_allft::f")
        .typed<Tensor(const Tensor&)>()
        .call(make_tensor({1}, kFloat32, kCPU));
    FAIL() << "expected a DispatchError";
  } catch (const DispatchError& e) {
    EXPECT_NE(std::string(e.what()).find("every key fell through"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sy
