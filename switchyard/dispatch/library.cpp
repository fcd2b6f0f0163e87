#include "switchyard/dispatch/library.h"

#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

namespace sy {
namespace {

std::string_view kind_name(Library::Kind k) {
  switch (k) {
    case Library::DEF: return "DEF";
    case Library::IMPL: return "IMPL";
    case Library::FRAGMENT: return "FRAGMENT";
  }
  return "?";
}

// One DEF library per namespace: its site, for the error naming both.
std::mutex g_def_mu;
std::unordered_map<std::string, std::string>& def_libraries() {
  static auto* m = new std::unordered_map<std::string, std::string>;
  return *m;
}

// A namespace is an identifier (letters, digits, '_', not starting with a
// digit), as op names are; "_" stands for every namespace.
bool is_namespace(std::string_view ns) {
  if (ns.empty() || (ns[0] >= '0' && ns[0] <= '9')) return false;
  for (char c : ns) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Library::Library(Kind kind, std::string ns, std::optional<DispatchKey> key, SourceLocation where)
    : Library(kind, std::move(ns), key, where.file, where.line) {}

Library::Library(Kind kind, std::string ns, std::optional<DispatchKey> key, std::string file,
                 int line)
    : kind_(kind), ns_(std::move(ns)), key_(key), file_(std::move(file)), line_(line) {
  if (key_ == DispatchKey::CatchAll) key_ = DispatchKey::CompositeImplicitAutograd;
  SY_CHECK(is_namespace(ns_), DispatchError,
           "Library({}, \"{}\") at {}:{}: a namespace is an identifier (letters, digits and '_', "
           "not starting with a digit), such as my_lib; \"_\" stands for every namespace",
           kind_name(kind_), ns_, file_, line_);
  SY_CHECK(kind_ == IMPL || ns_ != "_", DispatchError,
           "Library({}, \"_\") at {}:{}: the namespace '_' (every namespace) is only for IMPL "
           "libraries that register fallbacks",
           kind_name(kind_), file_, line_);
  SY_CHECK(!key_ || is_runtime_key(*key_) || is_alias_key(*key_), DispatchError,
           "Library(..., \"{}\", {}) at {}:{}: not a key kernels can be registered at", ns_,
           to_string(*key_), file_, line_);
  if (kind_ == DEF) {
    std::lock_guard<std::mutex> lock(g_def_mu);
    auto [it, inserted] = def_libraries().emplace(ns_, fmt::format("{}:{}", file_, line_));
    SY_CHECK(inserted, DispatchError,
             "namespace {} has two DEF libraries.\n  first:  {}\n  second: {}:{}\n"
             "  Keep one SY_LIBRARY({}, m) and make the others SY_LIBRARY_FRAGMENT({}, m).",
             ns_, it->second, file_, line_, ns_, ns_);
  }
}

Library::~Library() {
  reset();
  if (kind_ == DEF) {
    std::lock_guard<std::mutex> lock(g_def_mu);
    def_libraries().erase(ns_);
  }
}

void Library::reset() {
  for (auto it = registrations_.rbegin(); it != registrations_.rend(); ++it) {
    Dispatcher::singleton().deregister(*it);
  }
  registrations_.clear();
  // Release the removed kernels now if no call is using them.
  detail::collect_retired();
}

std::string Library::site(const SourceLocation& where) const {
  return fmt::format("{}:{} (library {} {} at {}:{})", where.file, where.line, kind_name(kind_),
                     ns_, file_, line_);
}

OperatorName Library::qualify(std::string_view name, const std::string& site) const {
  OperatorName op = parse_operator_name(name);
  if (op.ns.empty()) op.ns = ns_;
  SY_CHECK(ns_ == "_" || op.ns == ns_, DispatchError,
           "{} names op {} outside the library's namespace {} (registered from {})",
           kind_name(kind_), op.full_name(), ns_, site);
  return op;
}

Library& Library::def(std::string_view schema_text, SourceLocation where) {
  return def(schema_text, TagSet{}, where);
}

Library& Library::def(std::string_view schema_text, TagSet tags, SourceLocation where) {
  const std::string s = site(where);
  SY_CHECK(kind_ != IMPL, DispatchError,
           "def(\"{}\") in an IMPL library ({}): define ops in SY_LIBRARY or "
           "SY_LIBRARY_FRAGMENT, and register kernels in SY_LIBRARY_IMPL",
           schema_text, s);
  FunctionSchema schema = parse_schema(schema_text);
  if (schema.ns().empty()) schema.set_ns(ns_);
  SY_CHECK(schema.ns() == ns_, DispatchError,
           "def(\"{}\") at {}: the op's namespace {} differs from the library's namespace {}",
           schema_text, s, schema.ns(), ns_);
  registrations_.push_back(Dispatcher::singleton().register_def(std::move(schema), tags, s));
  return *this;
}

Library& Library::def(std::string_view schema_text, CppFunction fn, SourceLocation where) {
  def(schema_text, where);
  const FunctionSchema& schema = parse_schema(schema_text);
  const std::string name =
      schema.overload_name().empty() ? schema.name() : schema.name() + "." + schema.overload_name();
  return impl(name, DispatchKey::CompositeImplicitAutograd, std::move(fn), where);
}

Library& Library::impl(std::string_view name, CppFunction fn, SourceLocation where) {
  return impl(name, key_.value_or(DispatchKey::CompositeImplicitAutograd), std::move(fn), where);
}

Library& Library::impl(std::string_view name, DispatchKey key, CppFunction fn,
                       SourceLocation where) {
  const std::string s = site(where);
  if (key_ && kind_ == IMPL) {
    SY_CHECK(key == *key_, DispatchError,
             "impl(\"{}\", {}) in an IMPL library for key {} ({}): register at the library's "
             "key, or use another library",
             name, to_string(key), to_string(*key_), s);
  }
  registrations_.push_back(
      Dispatcher::singleton().register_impl(qualify(name, s), key, std::move(fn), s));
  return *this;
}

Library& Library::fallback(CppFunction fn, SourceLocation where) {
  const std::string s = site(where);
  SY_CHECK(kind_ == IMPL && key_.has_value(), DispatchError,
           "fallback() at {} needs an IMPL library with a key: SY_LIBRARY_IMPL(_, Key, m)", s);
  // A fallback serves every namespace, so it belongs to none but "_".
  SY_CHECK(ns_ == "_", DispatchError,
           "fallback() at {}: a fallback serves the ops of every namespace, so it is registered "
           "from namespace \"_\" (SY_LIBRARY_IMPL(_, {}, m), Library(\"_\", \"IMPL\", \"{}\")), "
           "not from {}",
           s, to_string(*key_), to_string(*key_), ns_);
  registrations_.push_back(Dispatcher::singleton().register_fallback(*key_, std::move(fn), s));
  return *this;
}

namespace detail {
StaticLibrary::StaticLibrary(Library::Kind kind, std::string ns, std::optional<DispatchKey> key,
                             void (*init)(Library&), const char* file, int line)
    : library_(kind, std::move(ns), key, file, line) {
  init(library_);
}
}  // namespace detail

}  // namespace sy
