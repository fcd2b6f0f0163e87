#include "switchyard/dispatch/operator_entry.h"

#include <algorithm>

#include <fmt/format.h>

#include "switchyard/core/retire.h"
#include "switchyard/dispatch/dispatcher.h"

namespace sy {

// The error slots' kernels: each throws the dispatcher's message for its case.
struct detail::DispatchErrors {
  static void missing_kernel(OperatorKernel*, const OperatorHandle& op, DispatchKeySet keys,
                             Stack* stack) {
    Dispatcher::singleton().throw_missing_kernel(op, keys, stack);
  }
  static void undefined_op(OperatorKernel*, const OperatorHandle& op, DispatchKeySet, Stack*) {
    Dispatcher::singleton().throw_undefined_op(op);
  }
  static void ambiguous(OperatorKernel*, const OperatorHandle& op, DispatchKeySet keys, Stack*) {
    Dispatcher::singleton().throw_ambiguous(op, keys);
  }
};

namespace {

constexpr KernelFunction kMissingKernel{&detail::DispatchErrors::missing_kernel, nullptr, nullptr};
constexpr KernelFunction kUndefinedOpKernel{&detail::DispatchErrors::undefined_op, nullptr,
                                            nullptr};
constexpr KernelFunction kAmbiguousKernel{&detail::DispatchErrors::ambiguous, nullptr, nullptr};
constexpr KernelFunction kFallthroughKernel{&detail::fallthrough_boxed, nullptr, nullptr};

// The schema type a C++ canonical type maps onto: fixed sizes and alias
// annotations do not change the C++ type.
std::string cpp_facing_type(const SchemaType& t) {
  switch (t.kind()) {
    case SchemaType::Kind::List: return cpp_facing_type(t.elem()) + "[]";
    case SchemaType::Kind::Optional: return cpp_facing_type(t.elem()) + "?";
    default: return t.to_string();
  }
}

uint16_t tag_bit(IValue::Tag t) { return static_cast<uint16_t>(1u << static_cast<int>(t)); }

// Which IValue tags a value of schema type `t` may have.
uint16_t accepted_tags(const SchemaType& t) {
  using K = SchemaType::Kind;
  using T = IValue::Tag;
  switch (t.kind()) {
    case K::Tensor: return tag_bit(T::Tensor);
    case K::Int: return tag_bit(T::Int);
    case K::Float: return tag_bit(T::Double) | tag_bit(T::Int);
    case K::Bool: return tag_bit(T::Bool);
    case K::Str: return tag_bit(T::String);
    case K::Scalar: return tag_bit(T::Bool) | tag_bit(T::Int) | tag_bit(T::Double);
    case K::ScalarType: return tag_bit(T::ScalarType);
    case K::Device: return tag_bit(T::Device);
    case K::Layout:
    case K::MemoryFormat: return tag_bit(T::Int);
    case K::Generator: return 0;  // only None, which Generator? adds
    case K::Optional: return accepted_tags(t.elem()) | tag_bit(T::None);
    case K::List:
      switch (t.elem().kind()) {
        case K::Int: return tag_bit(T::IntList);
        case K::Float: return tag_bit(T::DoubleList);
        case K::Bool: return tag_bit(T::BoolList);
        case K::Tensor: return tag_bit(T::TensorList);
        default: return 0xffff;  // lists the boxed path checks no further
      }
  }
  return 0xffff;
}

}  // namespace

namespace detail {
void fallthrough_boxed(OperatorKernel*, const OperatorHandle& op, DispatchKeySet keys, Stack*) {
  SY_THROW(DispatchError,
           "internal error: {} reached a fallthrough slot directly (keys {}); calls mask "
           "fallthrough keys out, so this is a bug in switchyard",
           op.name(), to_string(keys));
}
}  // namespace detail

OperatorEntry::OperatorEntry(OperatorName name)
    : name_(std::move(name)), full_name_(name_.full_name()), table_(nullptr) {}

void OperatorEntry::set_schema(FunctionSchema schema, TagSet tags, std::string site, uint64_t id) {
  def_ = Def{std::make_shared<const FunctionSchema>(std::move(schema)), tags, std::move(site), id};
  ++generation_;
}

bool OperatorEntry::remove_schema(uint64_t id) {
  if (!def_ || def_->id != id) return false;
  def_.reset();
  ++generation_;
  return true;
}

void OperatorEntry::add_kernel(DispatchKey key, KernelFunction kernel,
                               std::shared_ptr<OperatorKernel> functor,
                               std::optional<detail::CppSignature> signature, std::string site,
                               uint64_t id) {
  impls_.push_back({key, kernel, std::move(functor), std::move(signature), std::move(site), id});
}

bool OperatorEntry::remove_kernel(uint64_t id) {
  return std::erase_if(impls_, [id](const Kernel& k) { return k.id == id; }) > 0;
}

// The latest registration at `key` wins (See Note [Overriding a kernel]).
const OperatorEntry::Kernel* OperatorEntry::kernel_at(DispatchKey key) const {
  for (auto it = impls_.rbegin(); it != impls_.rend(); ++it) {
    if (it->key == key) return &*it;
  }
  return nullptr;
}

const std::string* OperatorEntry::kernel_site(DispatchKey key) const {
  const Kernel* k = kernel_at(key);
  return k ? &k->site : nullptr;
}

size_t OperatorEntry::kernel_count(DispatchKey key) const {
  return static_cast<size_t>(
      std::count_if(impls_.begin(), impls_.end(), [&](const Kernel& k) { return k.key == key; }));
}

void OperatorEntry::check_signature(const detail::CppSignature& sig,
                                    const std::string& site) const {
  const FunctionSchema& s = schema();
  detail::CppSignature expected;
  std::vector<std::string> arg_types, ret_types;
  for (const Argument& a : s.arguments()) arg_types.push_back(cpp_facing_type(a.type));
  for (const Return& r : s.returns()) ret_types.push_back(cpp_facing_type(r.type));
  bool ok = arg_types.size() == sig.arguments.size() && ret_types.size() == sig.returns.size();
  for (size_t i = 0; ok && i < arg_types.size(); ++i) ok = arg_types[i] == sig.arguments[i];
  for (size_t i = 0; ok && i < ret_types.size(); ++i) ok = ret_types[i] == sig.returns[i];
  if (ok) return;
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
    return out;
  };
  std::string want = "(" + join(arg_types) + ") -> ";
  want += ret_types.size() == 1 ? ret_types[0] : "(" + join(ret_types) + ")";
  SY_THROW(DispatchError,
           "the C++ signature {} does not match the schema of {}.\n"
           "  schema: {} (defined at {})\n"
           "  a kernel for it takes {}\n"
           "  the C++ signature came from {}",
           sig.to_string(), full_name_, s.to_string(), def_->site, want, site);
}

void OperatorEntry::check_kernel_signatures() const {
  for (const Kernel& k : impls_) {
    if (k.signature) check_signature(*k.signature, k.site);
  }
}

OperatorEntry::Resolution OperatorEntry::resolve(DispatchKey key,
                                                 const FallbackArray& fallbacks) const {
  using Source = Resolution::Source;
  auto from = [](Source src, const Kernel& k) {
    return Resolution{src, &k.kernel, k.site, k.kernel.is_fallthrough()};
  };
  if (!def_) return Resolution{Source::Undefined, &kUndefinedOpKernel, "", false};

  // 1. A kernel for the key itself.
  if (key != DispatchKey::Undefined) {
    if (const Kernel* k = kernel_at(key)) return from(Source::Direct, *k);
  }
  const Kernel* explicit_composite = kernel_at(DispatchKey::CompositeExplicitAutograd);
  const Kernel* implicit_composite = kernel_at(DispatchKey::CompositeImplicitAutograd);

  // 2. Backends and calls without tensors: CompositeExplicitAutograd.
  if ((is_backend_key(key) || key == DispatchKey::Undefined) && explicit_composite) {
    return from(Source::CompositeExplicit, *explicit_composite);
  }
  // 3. CompositeImplicitAutograd, for backends, the Undefined slot, and autograd
  //    keys whose backend has no kernel of its own.
  if (implicit_composite) {
    if (is_backend_key(key) || key == DispatchKey::Undefined) {
      return from(Source::CompositeImplicit, *implicit_composite);
    }
    if (key == DispatchKey::AutogradOther) {
      // Ambiguous only if a backend without an autograd key of its own (one that
      // AutogradOther serves) has a kernel: which autograd would apply is unclear.
      bool other_backend_kernel = false;
      for (const Kernel& k : impls_) {
        other_backend_kernel |=
            is_backend_key(k.key) && autograd_key_for(k.key) == DispatchKey::AutogradOther;
      }
      if (other_backend_kernel) {
        return Resolution{Source::Ambiguous, &kAmbiguousKernel, "", false};
      }
      return from(Source::CompositeImplicit, *implicit_composite);
    }
    if (is_autograd_key(key)) {
      const DispatchKey backend = backend_for_autograd_key(key);
      if (!kernel_at(backend) && !explicit_composite) {
        return from(Source::CompositeImplicit, *implicit_composite);
      }
    }
    if (key == DispatchKey::Python && !explicit_composite) {
      // A mode or subclass sees what runs: a pure composite decomposes first.
      bool backend_kernel = false;
      for (const Kernel& k : impls_) backend_kernel |= is_backend_key(k.key);
      if (!backend_kernel) return from(Source::CompositeImplicit, *implicit_composite);
    }
  }
  // 4. The Autograd alias.
  if (is_autograd_key(key)) {
    if (const Kernel* k = kernel_at(DispatchKey::Autograd)) return from(Source::AutogradAlias, *k);
  }
  // 5. The key's fallback.
  if (key != DispatchKey::Undefined) {
    if (const auto& f = fallbacks[static_cast<int>(key)]) {
      return Resolution{Source::Fallback, &f->kernel, f->site, f->kernel.is_fallthrough()};
    }
    if (is_autograd_key(key) || key == DispatchKey::ADInplaceOrView) {
      return Resolution{Source::DefaultFallthrough, &kFallthroughKernel, "", true};
    }
  }
  // 6. Nothing.
  return Resolution{Source::Missing, &kMissingKernel, "", false};
}

std::string OperatorEntry::Resolution::describe(DispatchKey key) const {
  switch (source) {
    case Source::Direct:
      return fmt::format("{} kernel for {} [{}]", fallthrough ? "fallthrough" : "the",
                         to_string(key), site);
    case Source::CompositeExplicit:
      return fmt::format("CompositeExplicitAutograd kernel [{}]", site);
    case Source::CompositeImplicit:
      return fmt::format("CompositeImplicitAutograd kernel [{}]", site);
    case Source::AutogradAlias: return fmt::format("Autograd kernel [{}]", site);
    case Source::Fallback:
      return fmt::format("{}backend fallback for {} [{}]", fallthrough ? "fallthrough " : "",
                         to_string(key), site);
    case Source::DefaultFallthrough: return "fallthrough (default for this key)";
    case Source::Ambiguous:
      return "ambiguous: a CompositeImplicitAutograd kernel and backend kernels";
    case Source::Missing: return "missing";
    case Source::Undefined: return "op not defined";
  }
  return "?";
}

void OperatorEntry::update_table(const FallbackArray& fallbacks) {
  auto table = std::make_unique<DispatchTable>();
  table->generation = generation_;
  table->defined = def_.has_value();
  if (def_) {
    table->schema = def_->schema;
    table->tags = def_->tags;
    const auto& args = def_->schema->arguments();
    table->num_arguments = static_cast<uint32_t>(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      table->accepted_tags.push_back(accepted_tags(args[i].type));
    }
  }
  uint64_t non_fallthrough = 0;
  for (int i = 0; i < kNumRuntimeKeys; ++i) {
    const Resolution r = resolve(static_cast<DispatchKey>(i), fallbacks);
    // Slot 0 is where calls land when every key fell through; it must run something.
    table->slots[i] = r.fallthrough && i == 0 ? kMissingKernel : *r.kernel;
    if (!r.fallthrough) non_fallthrough |= uint64_t{1} << i;
  }
  table->non_fallthrough = DispatchKeySet::from_raw(non_fallthrough);
  for (const Kernel& k : impls_) {
    if (k.functor) table->keep_alive.push_back(k.functor);
  }
  for (const auto& f : fallbacks) {
    if (f && f->functor) table->keep_alive.push_back(f->functor);
  }
  const DispatchTable* old = table_.exchange(table.release(), std::memory_order_acq_rel);
  if (old) detail::retire([old] { delete old; });
}

std::vector<DispatchKey> OperatorEntry::registered_keys() const {
  std::vector<DispatchKey> keys;
  for (const Kernel& k : impls_) keys.push_back(k.key);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::string OperatorEntry::dump() const {
  std::string out = fmt::format("name: {}\n", full_name_);
  if (def_) {
    out += fmt::format("schema: {}\n  defined at {}\n", def_->schema->to_string(), def_->site);
  } else {
    out += "schema: (none)\n";
  }
  std::vector<const Kernel*> sorted;
  for (const Kernel& k : impls_) sorted.push_back(&k);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Kernel* a, const Kernel* b) { return a->key < b->key; });
  for (const Kernel* k : sorted) {
    out += fmt::format("{}: {} [{}]{}\n", to_string(k->key),
                       k->kernel.is_fallthrough() ? "fallthrough"
                       : k->kernel.unboxed        ? "kernel (unboxed and boxed)"
                                                  : "kernel (boxed)",
                       k->site, kernel_at(k->key) == k ? "" : " (overridden)");
  }
  return out;
}

}  // namespace sy

namespace sy {
CppFunction CppFunction::fallthrough() {
  return CppFunction(kFallthroughKernel, nullptr, std::nullopt);
}
}  // namespace sy
