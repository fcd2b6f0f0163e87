// OperatorEntry: one operator's registrations and its computed dispatch table.
//
// The registrations (a schema from def(), kernels from impl() at runtime or
// alias keys) change under the dispatcher's lock. After every change the entry
// computes a new immutable DispatchTable, one slot per runtime key, and
// publishes it with one atomic store; calls read the current table with one
// load and never lock. Old tables are retired (core/retire.h), so a running
// call keeps using the table and kernels it loaded.
//
// Which kernel fills the slot of runtime key K, first match wins (the result
// does not depend on the order of registrations at different keys):
//   1. a kernel registered at K itself (the latest, when several were: see
//      Note [Overriding a kernel]);
//   2. for a backend key, or the Undefined slot (calls with no tensor
//      arguments): the CompositeExplicitAutograd kernel;
//   3. the CompositeImplicitAutograd kernel, but for an autograd key only when
//      the op has neither a kernel for that key's backend nor a
//      CompositeExplicitAutograd kernel; for AutogradOther, when the op also has
//      a kernel at a backend without an autograd key of its own, the composite
//      is ambiguous and the slot errors;
//      for the Python key, only when the op has neither a backend kernel nor a
//      CompositeExplicitAutograd kernel (so a dispatch mode sees the ops a pure
//      composite decomposes into, as it sees what runs in PyTorch);
//   4. for an autograd key: the Autograd alias kernel;
//   5. the dispatcher's fallback for K (ADInplaceOrView and the autograd keys
//      fall through unless a fallback was registered);
//   6. a kernel that throws the missing-kernel error.
//
// Note [Overriding a kernel]
// Registering a kernel at a key that already has one (a user's CPU kernel for a
// built-in op) warns and overrides it, as PyTorch does: the latest registration
// at a key is the one used, and removing it (destroying its library) brings
// back the one before. Each registration is kept, so any order of removals
// leaves the latest of those that remain.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/dispatch_key_set.h"
#include "switchyard/dispatch/boxing.h"
#include "switchyard/dispatch/function_schema.h"
#include "switchyard/dispatch/kernel_function.h"
#include "switchyard/dispatch/op_tag.h"

namespace sy {

// The published, immutable view of an op that calls read.
struct DispatchTable {
  std::array<KernelFunction, kNumRuntimeKeys> slots{};
  // Keys whose slot is not a fallthrough; a call masks its keys with this.
  DispatchKeySet non_fallthrough;
  // Changes whenever the op's schema is defined or removed; typed handles
  // compare it to the generation they were checked against.
  uint32_t generation = 0;
  bool defined = false;
  // Boxed calls: the argument count, and which IValue tags each argument
  // accepts (bit i: tag i).
  uint32_t num_arguments = 0;
  std::vector<uint16_t> accepted_tags;
  std::shared_ptr<const FunctionSchema> schema;
  TagSet tags;
  // Keeps the functors the slots point at alive as long as this table is.
  std::vector<std::shared_ptr<OperatorKernel>> keep_alive;
};

// A backend fallback, kept by the dispatcher, read by every op's table.
struct FallbackRegistration {
  KernelFunction kernel;
  std::shared_ptr<OperatorKernel> functor;
  std::string site;
  uint64_t id = 0;
};
using FallbackArray = std::array<std::optional<FallbackRegistration>, kNumRuntimeKeys>;

class OperatorEntry {
 public:
  explicit OperatorEntry(OperatorName name);
  OperatorEntry(const OperatorEntry&) = delete;
  OperatorEntry& operator=(const OperatorEntry&) = delete;

  const OperatorName& name() const { return name_; }
  const std::string& full_name() const { return full_name_; }

  // The current table; valid until the calling thread leaves its CallScope.
  const DispatchTable* table() const { return table_.load(std::memory_order_acquire); }

  // Everything below requires the dispatcher's lock.
  bool has_schema() const { return def_.has_value(); }
  const FunctionSchema& schema() const { return *def_->schema; }
  const std::string& def_site() const { return def_->site; }
  TagSet tags() const { return def_->tags; }
  bool has_registrations() const { return def_.has_value() || !impls_.empty(); }

  void set_schema(FunctionSchema schema, TagSet tags, std::string site, uint64_t id);
  // Removes the schema if `id` registered it; returns whether it did.
  bool remove_schema(uint64_t id);
  void add_kernel(DispatchKey key, KernelFunction kernel, std::shared_ptr<OperatorKernel> functor,
                  std::optional<detail::CppSignature> signature, std::string site, uint64_t id);
  bool remove_kernel(uint64_t id);

  // The site of the kernel registered at `key` (alias or runtime), if any.
  const std::string* kernel_site(DispatchKey key) const;

  // Throws DispatchError when a kernel's C++ signature does not match the schema.
  void check_signature(const detail::CppSignature& sig, const std::string& site) const;
  // Checks every unboxed kernel registered so far against the schema.
  void check_kernel_signatures() const;

  // Recomputes and publishes the table; retires the old one.
  void update_table(const FallbackArray& fallbacks);

  // How slot `key` is filled: for dumps and explain_dispatch.
  struct Resolution {
    enum class Source {
      Direct,
      CompositeExplicit,
      CompositeImplicit,
      AutogradAlias,
      Fallback,
      DefaultFallthrough,
      Ambiguous,
      Missing,
      Undefined,
    };
    Source source = Source::Missing;
    const KernelFunction* kernel = nullptr;
    std::string site;
    bool fallthrough = false;
    std::string describe(DispatchKey key) const;
  };
  Resolution resolve(DispatchKey key, const FallbackArray& fallbacks) const;

  // Keys (runtime or alias) that have a kernel registered, in key order.
  std::vector<DispatchKey> registered_keys() const;
  // Text dump of the registrations, stable across runs.
  std::string dump() const;

 private:
  struct Kernel {
    DispatchKey key;
    KernelFunction kernel;
    std::shared_ptr<OperatorKernel> functor;
    std::optional<detail::CppSignature> signature;
    std::string site;
    uint64_t id;
  };
  struct Def {
    std::shared_ptr<const FunctionSchema> schema;
    TagSet tags;
    std::string site;
    uint64_t id;
  };
  const Kernel* kernel_at(DispatchKey key) const;

  OperatorName name_;
  std::string full_name_;
  std::atomic<const DispatchTable*> table_;
  std::optional<Def> def_;
  std::vector<Kernel> impls_;
  uint32_t generation_ = 1;
};

}  // namespace sy
