// Library: a set of registrations made together and removed together.
//
//   SY_LIBRARY(my_lib, m) {                      // defines ops in namespace my_lib
//     m.def("scale(Tensor self, float factor=1.0) -> Tensor");
//   }
//   SY_LIBRARY_IMPL(my_lib, CPU, m) {            // kernels for them at one key
//     m.impl("scale", scale_cpu);
//   }
//   SY_LIBRARY_IMPL(_, Tracer, m) {              // a fallback for every op
//     m.fallback(CppFunction::boxed(trace_fallback));
//   }
//
// A DEF library is the one place a namespace's ops are defined (one per
// namespace); FRAGMENT libraries add more definitions to a namespace; IMPL
// libraries only add kernels. Destroying a Library removes exactly what it
// registered, in reverse order. Each registration remembers the file and line
// it was made at, and errors about conflicting registrations name both.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/dispatch/dispatcher.h"
#include "switchyard/dispatch/op_tag.h"

namespace sy {

// Where a registration was written: filled in at the caller by a default
// argument. (std::source_location would do, but clang 14 with libstdc++ 12
// cannot compile it; these builtins work in both compilers.)
struct SourceLocation {
  const char* file = "";
  int line = 0;
  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          int line = __builtin_LINE()) {
    return {file, line};
  }
};

class SY_API Library {
 public:
  enum Kind { DEF, IMPL, FRAGMENT };

  // `key`, when given, is where impl() without a key registers (IMPL libraries).
  Library(Kind kind, std::string ns, std::optional<DispatchKey> key = std::nullopt,
          SourceLocation where = SourceLocation::current());
  Library(Kind kind, std::string ns, std::optional<DispatchKey> key, std::string file, int line);
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  Library(Library&&) = delete;

  // Defines an op from its schema; a name without "ns::" gets the library's.
  Library& def(std::string_view schema, SourceLocation where = SourceLocation::current());
  // Defines an op with tags: m.def("relu(Tensor self) -> Tensor", {Tag::pointwise}).
  Library& def(std::string_view schema, TagSet tags,
               SourceLocation where = SourceLocation::current());
  // Defines an op and registers `fn` as its CompositeImplicitAutograd kernel.
  Library& def(std::string_view schema, CppFunction fn,
               SourceLocation where = SourceLocation::current());
  // Registers a kernel for op `name` ("scale" or "scale.out") at the library's
  // key (CompositeImplicitAutograd for libraries without one).
  Library& impl(std::string_view name, CppFunction fn,
                SourceLocation where = SourceLocation::current());
  // Registers a kernel at an explicit key (runtime or alias).
  Library& impl(std::string_view name, DispatchKey key, CppFunction fn,
                SourceLocation where = SourceLocation::current());
  // Registers a boxed kernel (or a fallthrough) for every op at the library's key.
  Library& fallback(CppFunction fn, SourceLocation where = SourceLocation::current());

  // Removes every registration now, in reverse order; the library stays usable.
  void reset();

  Kind kind() const { return kind_; }
  const std::string& ns() const { return ns_; }
  std::optional<DispatchKey> key() const { return key_; }

 private:
  std::string site(const SourceLocation& where) const;
  OperatorName qualify(std::string_view name, const std::string& site) const;

  Kind kind_;
  std::string ns_;
  std::optional<DispatchKey> key_;
  std::string file_;
  int line_;
  std::vector<RegistrationHandle> registrations_;
};

namespace detail {
// Runs a SY_LIBRARY block at static-initialisation time and keeps its Library
// alive until the program (or the shared library) unloads.
class SY_API StaticLibrary {
 public:
  StaticLibrary(Library::Kind kind, std::string ns, std::optional<DispatchKey> key,
                void (*init)(Library&), const char* file, int line);

 private:
  Library library_;
};

}  // namespace detail

}  // namespace sy

#define SY_CONCAT_IMPL(a, b) a##b
#define SY_CONCAT(a, b) SY_CONCAT_IMPL(a, b)

// Defines the ops of namespace `ns`; the block receives the Library as `m`.
#define SY_LIBRARY(ns, m)                                                                   \
  static void SY_CONCAT(sy_library_init_##ns##_, __LINE__)(::sy::Library&);                 \
  static const ::sy::detail::StaticLibrary SY_CONCAT(sy_library_static_##ns##_, __LINE__)(  \
      ::sy::Library::DEF, #ns, std::nullopt, &SY_CONCAT(sy_library_init_##ns##_, __LINE__), \
      __FILE__, __LINE__);                                                                  \
  static void SY_CONCAT(sy_library_init_##ns##_, __LINE__)(::sy::Library & m)

// Adds definitions to namespace `ns` (any number of fragments per namespace).
#define SY_LIBRARY_FRAGMENT(ns, m)                                                                \
  static void SY_CONCAT(sy_fragment_init_##ns##_, __LINE__)(::sy::Library&);                      \
  static const ::sy::detail::StaticLibrary SY_CONCAT(sy_fragment_static_##ns##_, __LINE__)(       \
      ::sy::Library::FRAGMENT, #ns, std::nullopt, &SY_CONCAT(sy_fragment_init_##ns##_, __LINE__), \
      __FILE__, __LINE__);                                                                        \
  static void SY_CONCAT(sy_fragment_init_##ns##_, __LINE__)(::sy::Library & m)

// Registers kernels for ops of namespace `ns` at dispatch key `key` (a
// DispatchKey name: CPU, Meta, Autograd, ...). Use `_` as ns for fallbacks.
#define SY_LIBRARY_IMPL(ns, key, m)                                                             \
  static void SY_CONCAT(sy_impl_init_##ns##_##key##_, __LINE__)(::sy::Library&);                \
  static const ::sy::detail::StaticLibrary SY_CONCAT(sy_impl_static_##ns##_##key##_, __LINE__)( \
      ::sy::Library::IMPL, #ns, ::sy::DispatchKey::key,                                         \
      &SY_CONCAT(sy_impl_init_##ns##_##key##_, __LINE__), __FILE__, __LINE__);                  \
  static void SY_CONCAT(sy_impl_init_##ns##_##key##_, __LINE__)(::sy::Library & m)
