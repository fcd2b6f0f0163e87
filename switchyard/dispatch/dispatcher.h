// The dispatcher: the registry of operators and the call path.
//
// A call computes its keys as (keys of its tensor arguments | keys the calling
// thread included) - keys the thread excluded, masks out the keys whose kernels
// fall through, and runs the kernel in the slot of the highest key left. A
// kernel that handles a feature (autograd, tracing, ...) continues the call
// with redispatch(), passing its keys with its own key and those above removed.
//
//   auto op = Dispatcher::singleton().find_op("my_lib::scale")
//                 .typed<Tensor(const Tensor&, double)>();
//   Tensor y = op.call(x, 2.0);  // unboxed when the kernel has an unboxed form
//
// Thread-safety: calls take no lock and may run while other threads register
// or remove kernels; each call sees one whole table. Registration serialises on
// one lock. See operator_entry.h for which kernel fills which slot.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/core/local_dispatch_key_set.h"
#include "switchyard/core/retire.h"
#include "switchyard/dispatch/cpp_function.h"
#include "switchyard/dispatch/operator_entry.h"

namespace sy {

template <typename Sig>
class TypedOperatorHandle;

namespace detail {
// The kernels that fill a table's error slots (operator_entry.cpp).
struct DispatchErrors;

// A Stack for one boxed call from a typed handle, taken from (and given back
// to) a small per-thread pool, so boxing the arguments does not allocate.
// Nested calls take another; the pool keeps a few, cleared, with their capacity.
struct SY_API PooledStack {
  PooledStack();
  ~PooledStack();
  PooledStack(const PooledStack&) = delete;
  PooledStack& operator=(const PooledStack&) = delete;
  Stack stack;
};
}  // namespace detail

// A handle to an operator: cheap to copy, valid for the life of the process.
// If the op's definition is removed, calls through the handle throw a
// DispatchError saying so; if it is defined again, the handle works again.
class SY_API OperatorHandle {
 public:
  explicit OperatorHandle(OperatorEntry* entry) : entry_(entry) {}

  // "my_lib::scale.out"
  const std::string& name() const { return entry_->full_name(); }
  // A copy of the schema; throws DispatchError when the op is not defined now.
  FunctionSchema schema() const;
  // The schema now, or null when the op is not defined; takes no lock.
  std::shared_ptr<const FunctionSchema> current_schema() const;
  // Changes whenever the op's definition is made or removed: a reader that caches
  // something derived from the schema compares it to know when to read again.
  uint32_t definition_generation() const {
    detail::CallScope scope;  // keeps the table alive while it is read
    return entry_->table()->generation;
  }
  bool is_defined() const;
  // The tags the op was defined with; empty when it is not defined now.
  TagSet tags() const;
  bool has_tag(Tag t) const { return tags().has(t); }

  // The op with C++ signature `Sig`; throws DispatchError naming both signatures
  // when Sig does not match the schema.
  template <typename Sig>
  TypedOperatorHandle<Sig> typed() const {
    TypedOperatorHandle<Sig> t(entry_);
    t.check_signature();
    return t;
  }

  // Calls the op with its arguments on `stack` (all of them, defaults filled
  // in); leaves the results there. A wrong count or type is a TypeError naming
  // the expected and actual types.
  void call_boxed(Stack& stack) const;
  // Continues a call at the highest key of `keys` (masked by fallthroughs).
  void redispatch_boxed(DispatchKeySet keys, Stack& stack) const;

  bool operator==(const OperatorHandle& o) const { return entry_ == o.entry_; }

 protected:
  friend class Dispatcher;
  OperatorEntry* entry() const { return entry_; }
  void check_boxed_call(const DispatchTable& t, const Stack& stack) const;
  // Checks `sig` against the current schema (a DispatchError naming both when
  // they differ) and returns the generation checked; an undefined op passes, as
  // its table's kernels all throw the removed-op error.
  uint32_t checked_generation(const detail::CppSignature& sig) const;

  OperatorEntry* entry_;
};

namespace detail {
template <typename... Args>
SY_ALWAYS_INLINE DispatchKeySet tensor_keys(const Args&... args) {
  DispatchKeySet ks;
  (ArgTraits<canonical_arg_t<Args>>::add_keys(ks, args), ...);
  return ks;
}

SY_ALWAYS_INLINE DispatchKeySet apply_thread_keys(DispatchKeySet tensor_keys) {
  const LocalDispatchKeySet local = sy::tls_local_dispatch_key_set();
  return (tensor_keys | local.included) - local.excluded;
}
}  // namespace detail

// An OperatorHandle whose calls are typed: arguments go to an unboxed kernel
// directly, or are boxed for a boxed one.
template <typename R, typename... Args>
class TypedOperatorHandle<R(Args...)> : public OperatorHandle {
  using CR = detail::canonical_return_t<R>;
  static_assert(std::is_same_v<R, CR>,
                "typed<Sig>(): return by value (Tensor, std::tuple<Tensor, Tensor>, ...)");
  using UnboxedFn = CR (*)(OperatorKernel*, DispatchKeySet, detail::param_t<Args>...);

 public:
  // Calls the op with the calling thread's included and excluded keys applied.
  SY_ALWAYS_INLINE R call(Args... args) const {
    detail::CallScope scope;
    const DispatchTable* t = entry_->table();
    const DispatchKeySet ks = detail::apply_thread_keys(detail::tensor_keys(args...));
    return run(t, ks, args...);
  }

  // Continues a call at the highest key in `keys` (no thread keys applied: the
  // caller passes the keys it received, minus its own and those above).
  SY_ALWAYS_INLINE R redispatch(DispatchKeySet keys, Args... args) const {
    detail::CallScope scope;
    return run(entry_->table(), keys, args...);
  }

  TypedOperatorHandle(const TypedOperatorHandle& o)
      : OperatorHandle(o), generation_(o.generation_.load(std::memory_order_relaxed)) {}
  TypedOperatorHandle& operator=(const TypedOperatorHandle& o) {
    OperatorHandle::operator=(o);
    generation_.store(o.generation_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }

 private:
  friend class OperatorHandle;
  explicit TypedOperatorHandle(OperatorEntry* entry) : OperatorHandle(entry) {}

  void check_signature() {
    generation_.store(checked_generation(detail::make_cpp_signature<R, Args...>()),
                      std::memory_order_relaxed);
  }

  SY_ALWAYS_INLINE R run(const DispatchTable* t, DispatchKeySet ks,
                         detail::param_t<Args>... args) const {
    if (SY_UNLIKELY(t->generation != generation_.load(std::memory_order_relaxed))) {
      t = recheck();
    }
    const KernelFunction& k = t->slots[(ks & t->non_fallthrough).highest_index()];
    if (SY_LIKELY(k.unboxed != nullptr)) {
      return reinterpret_cast<UnboxedFn>(k.unboxed)(k.functor, ks, args...);
    }
    return call_boxed_kernel(k, ks, args...);
  }

  // The op was redefined (maybe with another schema) or removed since typed():
  // returns a current table whose schema Sig matches, or throws.
  SY_NOINLINE const DispatchTable* recheck() const {
    for (;;) {
      const uint32_t checked = checked_generation(detail::make_cpp_signature<R, Args...>());
      const DispatchTable* t = entry_->table();
      if (t->generation == checked) {
        generation_.store(checked, std::memory_order_relaxed);  // later calls skip the check
        return t;
      }
    }
  }

  SY_NOINLINE R call_boxed_kernel(const KernelFunction& k, DispatchKeySet ks,
                                  detail::param_t<Args>... args) const {
    detail::PooledStack pooled;
    Stack& stack = pooled.stack;
    (stack.push_back(detail::ArgTraits<detail::canonical_arg_t<Args>>::box(args)), ...);
    k.call_boxed(*this, ks, &stack);
    return detail::pop_results<R>(stack, name());
  }

  // The schema generation Sig was checked against; relaxed: any thread that
  // sees a stale value merely checks again.
  mutable std::atomic<uint32_t> generation_{0};
};

// A registration, for removing exactly it later.
struct RegistrationHandle {
  enum class Kind : uint8_t { Def, Impl, Fallback };
  Kind kind;
  OperatorEntry* entry;  // null for fallbacks
  DispatchKey key;
  uint64_t id;
};

class SY_API Dispatcher {
 public:
  // The process-wide dispatcher; never destroyed, so libraries may unregister
  // from static destructors.
  static Dispatcher& singleton();

  // The op named "ns::name" or "ns::name.overload". Throws DispatchError for an
  // unknown name (suggesting near names), or one with kernels but no def().
  OperatorHandle find_op(std::string_view name);
  // The op, or nothing when it does not exist or is not defined.
  std::optional<OperatorHandle> find_op_or_null(std::string_view name);
  // Every defined op's full name, sorted.
  std::vector<std::string> op_names();

  // Registration (Library calls these; sites are "file:line (library ...)").
  RegistrationHandle register_def(FunctionSchema schema, TagSet tags, std::string site);
  RegistrationHandle register_impl(const OperatorName& name, DispatchKey key, CppFunction fn,
                                   std::string site);
  RegistrationHandle register_fallback(DispatchKey key, CppFunction fn, std::string site);
  // Removes exactly that registration. Never throws.
  void deregister(const RegistrationHandle& handle) noexcept;

  // Stable text dumps for introspection and tests.
  std::string dump(std::string_view op_name);
  std::string dump_table(std::string_view op_name);
  // Why a call with `args` (the op's arguments, as for call_boxed) on the
  // calling thread picks its kernel.
  std::string explain(const OperatorHandle& op, const Stack& args);

 private:
  friend class OperatorHandle;
  friend struct detail::DispatchErrors;

  Dispatcher();
  // Error messages for the slots that throw (the error kernels of operator_entry.cpp).
  // `stack` holds the call's arguments (to name undefined tensors and excluded keys).
  [[noreturn]] void throw_missing_kernel(const OperatorHandle& op, DispatchKeySet keys,
                                         const Stack* stack = nullptr);
  [[noreturn]] void throw_undefined_op(const OperatorHandle& op);
  [[noreturn]] void throw_ambiguous(const OperatorHandle& op, DispatchKeySet keys);

  OperatorEntry& entry_for(const OperatorName& name);
  void update_all_tables();

  std::mutex mu_;  // serialises registration; held while reading registrations for messages
  std::unordered_map<std::string, std::unique_ptr<OperatorEntry>> ops_;
  FallbackArray fallbacks_;
  // Fallbacks a later registration at the same key overrides, oldest first.
  std::array<std::vector<FallbackRegistration>, kNumRuntimeKeys> shadowed_fallbacks_;
  uint64_t next_id_ = 1;
};

// Why a call of `op` with `args` on the calling thread runs the kernel it runs:
// the keys from the tensors, the thread's included and excluded keys, the
// fallthrough keys skipped, and the kernel chosen with where it was registered.
SY_API std::string explain_dispatch(const OperatorHandle& op, const Stack& args);
SY_API std::string explain_dispatch(std::string_view op_name, const Stack& args);

}  // namespace sy
