#include "switchyard/dispatch/dispatcher.h"

#include <array>

#include <algorithm>

#include <fmt/format.h>

#include "switchyard/core/warning.h"

namespace sy {

namespace detail {

std::string CppSignature::to_string() const {
  std::string out = "(";
  for (size_t i = 0; i < arguments.size(); ++i)
    out += fmt::format("{}{}", i ? ", " : "", arguments[i]);
  out += ") -> ";
  if (returns.size() == 1) return out + std::string(returns[0]);
  out += "(";
  for (size_t i = 0; i < returns.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", returns[i]);
  return out + ")";
}

void check_boxed_arguments(const Stack& stack, size_t n) {
  SY_CHECK(stack.size() >= n, TypeError,
           "a boxed kernel expected {} arguments on the stack but found {}", n, stack.size());
}

void throw_wrong_result_type(std::string_view op_name, const char* detail) {
  SY_THROW(TypeError, "{}: the boxed kernel left a result of the wrong type for the schema: {}",
           op_name, detail);
}

void check_boxed_results(const Stack& stack, size_t expected, std::string_view op_name) {
  SY_CHECK(stack.size() == expected, TypeError,
           "{}: the boxed kernel left {} values on the stack; the schema returns {}", op_name,
           stack.size(), expected);
}

}  // namespace detail

namespace {

// Levenshtein distance, for suggesting names close to a misspelt one.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string describe_value(const IValue& v) {
  if (v.is_tensor()) {
    const Tensor& t = v.to_tensor_ref();
    if (!t.defined()) return "Tensor(undefined)";
    return fmt::format("Tensor{} {} {}", to_string(t.sizes()), to_string(t.dtype()),
                       t.device().str());
  }
  return std::string(v.type_name());
}

}  // namespace

// ---- OperatorHandle ---------------------------------------------------------

FunctionSchema OperatorHandle::schema() const {
  std::lock_guard<std::mutex> lock(Dispatcher::singleton().mu_);
  SY_CHECK(entry_->has_schema(), DispatchError,
           "{} has no schema: it was removed (its library was destroyed) or never defined", name());
  return entry_->schema();
}

bool OperatorHandle::is_defined() const {
  detail::CallScope scope;  // keeps the table alive while it is read
  return entry_->table()->defined;
}

TagSet OperatorHandle::tags() const {
  detail::CallScope scope;
  return entry_->table()->tags;
}

std::shared_ptr<const FunctionSchema> OperatorHandle::current_schema() const {
  detail::CallScope scope;
  return entry_->table()->schema;
}

OperatorHandle::ResolvedKernel OperatorHandle::resolve(DispatchKeySet keys) const {
  detail::CallScope scope;  // keeps the table alive while it is read
  const DispatchTable* t = entry_->table();
  ResolvedKernel r;
  r.keys = keys & t->non_fallthrough;
  r.kernel = t->slots[r.keys.highest_index()];
  r.schema = t->schema;
  for (const auto& f : t->keep_alive) {
    if (f.get() == r.kernel.functor) r.keep_alive = f;
  }
  std::lock_guard<std::mutex> lock(Dispatcher::singleton().mu_);
  r.overrides_earlier = entry_->kernel_count(r.keys.highest_priority_key()) > 1;
  return r;
}

uint32_t OperatorHandle::checked_generation(const detail::CppSignature& sig) const {
  std::lock_guard<std::mutex> lock(Dispatcher::singleton().mu_);
  if (entry_->has_schema()) {
    entry_->check_signature(sig, "OperatorHandle::typed<Sig>()");
  }
  return entry_->table()->generation;
}

namespace detail {
namespace {
struct StackPool;
constinit thread_local StackPool* tls_stack_pool SY_TLS_MODEL = nullptr;
constinit thread_local bool tls_stack_pool_gone SY_TLS_MODEL = false;

struct StackPool {
  static constexpr size_t kKeep = 8;
  std::array<Stack, kKeep> stacks;
  size_t size = 0;
  // Calls made later in the thread's exit (from other thread_local
  // destructors) then use plain stacks.
  ~StackPool() {
    tls_stack_pool = nullptr;
    tls_stack_pool_gone = true;
  }
};

// The calling thread's pool (made on first use, freed at thread exit), or null
// once it is gone.
StackPool* stack_pool() {
  if (SY_LIKELY(tls_stack_pool != nullptr) || tls_stack_pool_gone) return tls_stack_pool;
  thread_local StackPool pool;
  tls_stack_pool = &pool;
  return &pool;
}
}  // namespace

PooledStack::PooledStack() {
  StackPool* p = stack_pool();
  if (p != nullptr && p->size > 0) stack = std::move(p->stacks[--p->size]);
  if (stack.capacity() == 0) stack.reserve(8);
}

PooledStack::~PooledStack() {
  StackPool* p = tls_stack_pool;
  if (p == nullptr || p->size == StackPool::kKeep || stack.capacity() > 64) return;
  stack.clear();
  p->stacks[p->size++] = std::move(stack);
}
}  // namespace detail

void OperatorHandle::check_boxed_call(const DispatchTable& t, const Stack& stack) const {
  if (!t.defined) Dispatcher::singleton().throw_undefined_op(*this);
  bool ok = stack.size() >= t.num_arguments;
  const size_t first = ok ? stack.size() - t.num_arguments : 0;
  for (size_t i = 0; ok && i < t.num_arguments; ++i) {
    ok = (t.accepted_tags[i] >> static_cast<int>(stack[first + i].tag())) & 1;
  }
  if (SY_LIKELY(ok)) return;
  std::string expected, actual;
  const auto& args = t.schema->arguments();
  for (size_t i = 0; i < args.size(); ++i) {
    expected += fmt::format("{}{} {}", i ? ", " : "", args[i].type.to_string(), args[i].name);
  }
  for (size_t i = 0; i < stack.size(); ++i) {
    actual += fmt::format("{}{}", i ? ", " : "", describe_value(stack[i]));
  }
  SY_THROW(TypeError,
           "{}: a boxed call got the wrong arguments.\n  expected: ({})\n  got:      ({})\n"
           "  Push every argument, defaults included, in schema order.",
           name(), expected, actual);
}

void OperatorHandle::call_boxed(Stack& stack) const {
  detail::CallScope scope;
  const DispatchTable* t = entry_->table();
  // One pass checks each argument's type and gathers the tensors' keys; the
  // type check means a tensor can only sit where the schema has one.
  const size_t n = t->num_arguments;
  bool ok = t->defined && stack.size() >= n;
  DispatchKeySet ks;
  if (SY_LIKELY(ok)) {
    const IValue* args = stack.data() + (stack.size() - n);
    const uint16_t* accepted = t->accepted_tags.data();
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      const IValue& v = args[i];
      bad |= ~(accepted[i] >> static_cast<int>(v.tag())) & 1u;
      detail::add_value_keys(ks, v);
    }
    ok = bad == 0;
  }
  if (SY_UNLIKELY(!ok)) check_boxed_call(*t, stack);  // throws, naming the types
  ks = detail::apply_thread_keys(ks);
  t->slots[(ks & t->non_fallthrough).highest_index()].call_boxed(*this, ks, &stack);
}

void OperatorHandle::redispatch_boxed(DispatchKeySet keys, Stack& stack) const {
  detail::CallScope scope;
  const DispatchTable* t = entry_->table();
  t->slots[(keys & t->non_fallthrough).highest_index()].call_boxed(*this, keys, &stack);
}

// ---- Dispatcher -------------------------------------------------------------

Dispatcher& Dispatcher::singleton() {
  static Dispatcher* d = new Dispatcher;
  return *d;
}

Dispatcher::Dispatcher() = default;

OperatorEntry& Dispatcher::entry_for(const OperatorName& name) {
  const std::string key = name.full_name();
  auto it = ops_.find(key);
  if (it == ops_.end()) {
    it = ops_.emplace(key, std::make_unique<OperatorEntry>(name)).first;
    it->second->update_table(fallbacks_);
  }
  return *it->second;
}

void Dispatcher::update_all_tables() {
  for (auto& [name, entry] : ops_) entry->update_table(fallbacks_);
}

std::optional<OperatorHandle> Dispatcher::find_op_or_null(std::string_view name) {
  OperatorName parsed;
  try {
    parsed = parse_operator_name(name);
  } catch (const SchemaError&) {
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(parsed.full_name());
  if (it == ops_.end() || !it->second->has_schema()) return std::nullopt;
  return OperatorHandle(it->second.get());
}

OperatorHandle Dispatcher::find_op(std::string_view name) {
  OperatorName parsed;
  try {
    parsed = parse_operator_name(name);
  } catch (const SchemaError& e) {
    SY_THROW(DispatchError,
             "find_op(\"{}\"): not an operator name; expected \"ns::name\" or "
             "\"ns::name.overload\".\n{}",
             name, e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(parsed.full_name());
  if (it != ops_.end() && it->second->has_schema()) return OperatorHandle(it->second.get());
  if (it != ops_.end() && it->second->has_registrations()) {
    std::string sites;
    for (DispatchKey k : it->second->registered_keys()) {
      sites += fmt::format("\n    {} at {}", to_string(k), *it->second->kernel_site(k));
    }
    SY_THROW(DispatchError,
             "{} has kernels but no schema: it was never defined with def(), or its definition "
             "was removed.{}\n  Define it with SY_LIBRARY({}, m) {{ m.def(\"{}(...) -> ...\"); }}",
             parsed.full_name(), sites, parsed.ns, parsed.name);
  }
  std::vector<std::pair<size_t, std::string>> near;
  for (const auto& [key, entry] : ops_) {
    if (!entry->has_schema()) continue;
    const size_t d = edit_distance(key, parsed.full_name());
    if (d <= 3) near.emplace_back(d, key);
  }
  std::sort(near.begin(), near.end());
  std::string hint;
  for (size_t i = 0; i < near.size() && i < 3; ++i) hint += (i ? ", " : "") + near[i].second;
  SY_THROW(DispatchError, "no operator named {}{}", parsed.full_name(),
           hint.empty() ? std::string(": no op of that name is defined")
                        : fmt::format(". Did you mean: {}?", hint));
}

std::vector<std::string> Dispatcher::op_names() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [key, entry] : ops_) {
    if (entry->has_schema()) names.push_back(key);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Every registration change ends here, outside the lock: the tables it
// replaced may free kernels whose destructors call back into the dispatcher.
struct CollectAfterUnlock {
  ~CollectAfterUnlock() { detail::collect_retired_if_full(); }
};

RegistrationHandle Dispatcher::register_def(FunctionSchema schema, TagSet tags, std::string site) {
  const OperatorName name{schema.ns(), schema.name(), schema.overload_name()};
  CollectAfterUnlock collect;
  std::lock_guard<std::mutex> lock(mu_);
  OperatorEntry& e = entry_for(name);
  SY_CHECK(!e.has_schema(), DispatchError,
           "{} is defined twice.\n  first:  {}\n          at {}\n  second: {}\n          at {}\n"
           "  Define each op once; add overloads with a distinct name (\"{}.other(...)\").",
           e.full_name(), e.schema().to_string(), e.def_site(), schema.to_string(), site,
           name.ns + "::" + name.name);
  const uint64_t id = next_id_++;
  e.set_schema(std::move(schema), tags, site, id);
  // Kernels registered before the def are checked against it now.
  // (An impl may come from a library loaded before the defining one.)
  try {
    e.check_kernel_signatures();
    e.update_table(fallbacks_);
  } catch (...) {
    e.remove_schema(id);
    e.update_table(fallbacks_);
    throw;
  }
  return {RegistrationHandle::Kind::Def, &e, DispatchKey::Undefined, id};
}

RegistrationHandle Dispatcher::register_impl(const OperatorName& name, DispatchKey key,
                                             CppFunction fn, std::string site) {
  if (key == DispatchKey::CatchAll) key = DispatchKey::CompositeImplicitAutograd;
  SY_CHECK(is_runtime_key(key) || is_alias_key(key), DispatchError,
           "cannot register a kernel for {} at key {}: not a runtime or alias key",
           name.full_name(), to_string(key));
  SY_CHECK(!fn.kernel().is_fallthrough() || is_runtime_key(key), DispatchError,
           "a fallthrough for {} at alias key {} ({}): fallthrough skips one runtime key; at an "
           "alias it would leave calls with nothing to run. Register it at a runtime key.",
           name.full_name(), to_string(key), site);
  SY_CHECK(fn.kernel().unboxed == nullptr || fn.signature(), DispatchError,
           "the kernel for {} at {} ({}) has an unboxed function but no C++ signature to check "
           "it against the schema",
           name.full_name(), to_string(key), site);
  CollectAfterUnlock collect;
  std::string overridden;  // the warning, given once the lock is released
  RegistrationHandle handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    OperatorEntry& e = entry_for(name);
    if (e.has_schema() && fn.signature()) e.check_signature(*fn.signature(), site);
    if (const std::string* other = e.kernel_site(key)) {
      overridden = fmt::format(
          "{} already has a kernel for {}; the new one overrides it until the library that "
          "registered it is removed, which restores the first.\n  first:  {}\n  second: {}",
          e.full_name(), to_string(key), *other, site);
    }
    const uint64_t id = next_id_++;
    e.add_kernel(key, fn.kernel(), fn.functor(), fn.signature(), std::move(site), id);
    e.update_table(fallbacks_);
    handle = {RegistrationHandle::Kind::Impl, &e, key, id};
  }
  // Outside the lock: a handler (Python's) may take other locks or call back in.
  if (!overridden.empty()) warn(overridden);
  return handle;
}

RegistrationHandle Dispatcher::register_fallback(DispatchKey key, CppFunction fn,
                                                 std::string site) {
  SY_CHECK(is_runtime_key(key), DispatchError,
           "a backend fallback needs a runtime key, not {}; fallbacks at alias keys do not exist",
           to_string(key));
  SY_CHECK(!fn.signature() && fn.kernel().unboxed == nullptr, DispatchError,
           "the fallback for {} at {} is an unboxed kernel; a fallback serves every op, so it "
           "must be boxed: use CppFunction::boxed(fn) or CppFunction::fallthrough()",
           to_string(key), site);
  CollectAfterUnlock collect;
  std::string overridden;  // the warning, given once the lock is released
  RegistrationHandle handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = fallbacks_[static_cast<int>(key)];
    if (slot) {
      // As for kernels (Note [Overriding a kernel]): the latest wins, and
      // removing it brings back the one before.
      overridden = fmt::format(
          "the key {} already has a fallback; the new one overrides it until the library that "
          "registered it is removed, which restores the first.\n  first:  {}\n  second: {}",
          to_string(key), slot->site, site);
      shadowed_fallbacks_[static_cast<int>(key)].push_back(std::move(*slot));
    }
    const uint64_t id = next_id_++;
    slot = FallbackRegistration{fn.kernel(), fn.functor(), std::move(site), id};
    update_all_tables();
    handle = {RegistrationHandle::Kind::Fallback, nullptr, key, id};
  }
  if (!overridden.empty()) warn(overridden);
  return handle;
}

void Dispatcher::deregister(const RegistrationHandle& h) noexcept {
  CollectAfterUnlock collect;
  // A shadowed fallback's functor may be a Python callable: freed after unlocking.
  std::vector<FallbackRegistration> dropped;
  std::lock_guard<std::mutex> lock(mu_);
  switch (h.kind) {
    case RegistrationHandle::Kind::Def:
      if (h.entry->remove_schema(h.id)) h.entry->update_table(fallbacks_);
      break;
    case RegistrationHandle::Kind::Impl:
      if (h.entry->remove_kernel(h.id)) h.entry->update_table(fallbacks_);
      break;
    case RegistrationHandle::Kind::Fallback: {
      auto& slot = fallbacks_[static_cast<int>(h.key)];
      auto& shadowed = shadowed_fallbacks_[static_cast<int>(h.key)];
      if (slot && slot->id == h.id) {
        slot.reset();
        if (!shadowed.empty()) {
          slot = std::move(shadowed.back());
          shadowed.pop_back();
        }
        update_all_tables();
      } else {
        for (auto it = shadowed.begin(); it != shadowed.end(); ++it) {
          if (it->id == h.id) {
            dropped.push_back(std::move(*it));
            shadowed.erase(it);
            break;
          }
        }
      }
      break;
    }
  }
}

std::vector<DispatchKey> Dispatcher::registered_keys(const OperatorHandle& op) {
  std::lock_guard lock(mu_);
  return op.entry()->registered_keys();
}

std::string Dispatcher::dump(std::string_view op_name) {
  const OperatorName parsed = parse_operator_name(op_name);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(parsed.full_name());
  SY_CHECK(it != ops_.end(), DispatchError, "no operator named {}", parsed.full_name());
  return it->second->dump();
}

std::string Dispatcher::dump_table(std::string_view op_name) {
  const OperatorName parsed = parse_operator_name(op_name);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(parsed.full_name());
  SY_CHECK(it != ops_.end(), DispatchError, "no operator named {}", parsed.full_name());
  std::string out = fmt::format("computed table for {}:\n", parsed.full_name());
  for (int i = 0; i < kNumRuntimeKeys; ++i) {
    const auto k = static_cast<DispatchKey>(i);
    const auto r = it->second->resolve(k, fallbacks_);
    out += fmt::format("  {}: {}\n", i == 0 ? "Undefined (no tensor arguments)" : to_string(k),
                       r.describe(k));
  }
  return out;
}

std::string Dispatcher::explain(const OperatorHandle& op, const Stack& args) {
  detail::CallScope scope;  // keeps the table alive while it is read
  const DispatchTable* t = op.entry()->table();
  std::string out = fmt::format("explain {}(", op.name());
  for (size_t i = 0; i < args.size(); ++i) out += (i ? ", " : "") + describe_value(args[i]);
  out += ")\n";
  if (!t->defined) return out + "  the op is not defined (removed, or never defined)\n";
  SY_CHECK(args.size() == t->num_arguments, TypeError,
           "explain_dispatch({}): got {} arguments, the schema takes {}: {}", op.name(),
           args.size(), t->num_arguments, t->schema->to_string());
  DispatchKeySet tensor_keys;
  std::string sources;
  const auto& schema_args = t->schema->arguments();
  for (size_t i = 0; i < args.size(); ++i) {
    DispatchKeySet ks;
    if (schema_args[i].type.contains_tensor()) detail::add_value_keys(ks, args[i]);
    if (!ks.empty()) sources += fmt::format(" {}={}", schema_args[i].name, to_string(ks));
    tensor_keys |= ks;
  }
  const LocalDispatchKeySet local = tls_local_dispatch_key_set();
  const DispatchKeySet call_keys = (tensor_keys | local.included) - local.excluded;
  const DispatchKeySet skipped = call_keys - t->non_fallthrough;
  const DispatchKey chosen = (call_keys & t->non_fallthrough).highest_priority_key();
  out += fmt::format("  keys from tensors:   {}{}\n", to_string(tensor_keys),
                     sources.empty() ? "" : "  (" + sources.substr(1) + ")");
  out += fmt::format("  thread included:     {}\n", to_string(local.included));
  out += fmt::format("  thread excluded:     {}\n", to_string(local.excluded));
  out += fmt::format("  call keys:           {}\n", to_string(call_keys));
  std::lock_guard<std::mutex> lock(mu_);
  if (!skipped.empty()) {
    out += "  fallthrough skipped:\n";
    std::vector<DispatchKey> keys(skipped.begin(), skipped.end());
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
      out += fmt::format("    {}: {}\n", to_string(*it),
                         op.entry()->resolve(*it, fallbacks_).describe(*it));
    }
  }
  out +=
      fmt::format("  chosen key:          {}{}\n", to_string(chosen),
                  chosen == DispatchKey::Undefined ? " (no keys left: no tensor arguments)" : "");
  out += fmt::format("  kernel:              {}\n",
                     op.entry()->resolve(chosen, fallbacks_).describe(chosen));
  return out;
}

void Dispatcher::throw_missing_kernel(const OperatorHandle& op, DispatchKeySet keys,
                                      const Stack* stack) {
  std::string have;
  std::string name;
  DispatchKey chosen;
  DispatchKeySet tensor_keys;
  std::string undefined;  // the Tensor arguments that hold no tensor
  {
    std::lock_guard<std::mutex> lock(mu_);
    const DispatchTable* t = op.entry()->table();
    chosen = (keys & t->non_fallthrough).highest_priority_key();
    if (stack && t->defined && stack->size() >= t->num_arguments) {
      const size_t first = stack->size() - t->num_arguments;
      const auto& arguments = t->schema->arguments();
      for (size_t i = 0; i < arguments.size(); ++i) {
        const IValue& v = (*stack)[first + i];
        if (arguments[i].type.contains_tensor()) detail::add_value_keys(tensor_keys, v);
        if (arguments[i].type.is_tensor() && v.is_tensor() && !v.tensor_impl_unchecked()) {
          undefined += fmt::format("{}'{}'", undefined.empty() ? "" : ", ", arguments[i].name);
        }
      }
    }
    for (DispatchKey k : op.entry()->registered_keys()) {
      have += (have.empty() ? "" : ", ") + std::string(to_string(k));
    }
    for (int i = 1; i < kNumRuntimeKeys; ++i) {
      if (fallbacks_[i] && !fallbacks_[i]->kernel.is_fallthrough()) {
        have += fmt::format("{}{} (fallback)", have.empty() ? "" : ", ",
                            to_string(static_cast<DispatchKey>(i)));
      }
    }
  }
  const OperatorName& n = op.entry()->name();
  if (!undefined.empty()) {
    SY_THROW(DispatchError,
             "{}: argument {} is an undefined tensor (a default-constructed Tensor(), which "
             "holds nothing and has no device), so no kernel can be chosen; pass a tensor made "
             "by a factory or an op",
             op.name(), undefined);
  }
  const LocalDispatchKeySet local = tls_local_dispatch_key_set();
  // The thread excluded the tensors' backend keys: no key is left, or only keys
  // that fall through (ADInplaceOrView).
  const bool backend_excluded =
      (tensor_keys & kBackendKeys).has_any(local.excluded) && !keys.has_any(kBackendKeys);
  if ((keys.empty() || backend_excluded) && !tensor_keys.empty()) {
    SY_THROW(DispatchError,
             "no kernel for {}: the call's tensors have the keys {}, and the calling thread "
             "excludes {}, which leaves no key to dispatch on.\n"
             "  Leave the scope that excludes them (an ExcludeDispatchKeyGuard), or register a "
             "CompositeExplicitAutograd kernel for {}.",
             op.name(), to_string(tensor_keys), to_string(local.excluded), op.name());
  }
  if (keys.empty()) {
    SY_THROW(DispatchError,
             "no kernel for {} for a call without tensor arguments (no dispatch keys).\n"
             "  Kernels exist for: {}.\n"
             "  Register a CompositeExplicitAutograd or CompositeImplicitAutograd kernel, which "
             "serve calls without tensors.",
             op.name(), have.empty() ? "none" : have);
  }
  SY_THROW(
      DispatchError,
      "no kernel for {} at key {}.\n"
      "  The call's keys were {}; kernels exist for: {}.\n"
      "  Register one with SY_LIBRARY_IMPL({}, {}, m) or a CompositeExplicitAutograd kernel.",
      op.name(),
      chosen == DispatchKey::Undefined ? "Undefined (every key fell through)" : to_string(chosen),
      to_string(keys), have.empty() ? "none" : have, n.ns,
      chosen == DispatchKey::Undefined ? "CPU" : to_string(chosen));
}

void Dispatcher::throw_undefined_op(const OperatorHandle& op) {
  std::string kernels;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (DispatchKey k : op.entry()->registered_keys()) {
      kernels += fmt::format("\n    {} at {}", to_string(k), *op.entry()->kernel_site(k));
    }
  }
  SY_THROW(DispatchError,
           "{} was called but is not defined: its definition was removed (the library that "
           "defined it was destroyed) or it was never defined.{}{}\n"
           "  Keep the defining Library alive while the op is in use, or define it again.",
           op.name(), kernels.empty() ? "" : "\n  Kernels still registered for it:", kernels);
}

void Dispatcher::throw_ambiguous(const OperatorHandle& op, DispatchKeySet keys) {
  SY_THROW(DispatchError,
           "{} at AutogradOther is ambiguous: the op has a CompositeImplicitAutograd kernel and "
           "kernels for specific backends, so it is unclear which backend's autograd applies. "
           "The call's keys were {}.\n  Register an Autograd or AutogradOther kernel for it.",
           op.name(), to_string(keys));
}

std::string explain_dispatch(const OperatorHandle& op, const Stack& args) {
  return Dispatcher::singleton().explain(op, args);
}

std::string explain_dispatch(std::string_view op_name, const Stack& args) {
  return explain_dispatch(Dispatcher::singleton().find_op(op_name), args);
}

}  // namespace sy
