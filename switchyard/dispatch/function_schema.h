// FunctionSchema: an operator's signature in the schema language, e.g.
//   my_lib::scale.out(Tensor self, float factor=1.0, *, Tensor(a!) out) -> Tensor(a!)
// A namespace and an overload name (both optional in the text), arguments with
// types, defaults, alias annotations and a keyword-only marker (`*`), and
// returns (none `()`, one, or several `(Tensor, Tensor)`, optionally named).
//
// parse_schema() turns text into a schema and to_string() prints it back to
// text that parses to an equal schema. Parse errors are sy::SchemaError with
// the line, the column and a caret under the offending text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/ivalue.h"

namespace sy {

// The type of an argument or return.
class SY_API SchemaType {
 public:
  enum class Kind : uint8_t {
    Tensor,
    Int,
    Float,
    Bool,
    Str,
    Scalar,
    ScalarType,
    Device,
    Layout,        // boxed as an int (tensor/layout.h)
    MemoryFormat,  // boxed as an int
    Generator,     // only as `Generator?`, whose one value is None
    List,          // elem()[]; fixed_size() when written `int[2]`
    Optional,      // elem()?
  };

  static SchemaType base(Kind k) { return SchemaType(k, nullptr, std::nullopt); }
  static SchemaType list(SchemaType elem, std::optional<int64_t> fixed_size = std::nullopt) {
    return SchemaType(Kind::List, std::make_shared<SchemaType>(std::move(elem)), fixed_size);
  }
  static SchemaType optional(SchemaType elem) {
    return SchemaType(Kind::Optional, std::make_shared<SchemaType>(std::move(elem)), std::nullopt);
  }

  Kind kind() const { return kind_; }
  // The element type of a List or Optional.
  const SchemaType& elem() const { return *elem_; }
  std::optional<int64_t> fixed_size() const { return fixed_size_; }
  // Whether a list of `n` values fits this list type. `int[N]` for N >= 2 holds
  // N values, or none (PyTorch's "not given": `int[2] stride=[]`); one int also
  // stands for all N where the value is parsed. `int[1]` is PyTorch's spelling
  // of "a list of dims, or one dim" (`int[1]? dim` of aten::sum) and takes any length.
  bool list_size_fits(size_t n) const {
    return !fixed_size_ || *fixed_size_ < 2 || n == 0 || n == static_cast<size_t>(*fixed_size_);
  }

  bool is_tensor() const { return kind_ == Kind::Tensor; }
  // Tensor, Tensor?, Tensor[], Tensor?[]: arguments whose keys a call dispatches on.
  bool contains_tensor() const {
    return kind_ == Kind::Tensor || (elem_ && elem_->contains_tensor());
  }
  // Whether `v` is a value of this type (an int for a float, None for an optional, ...).
  bool accepts(const IValue& v) const;

  // "Tensor", "int[]", "Tensor?", "int[2]", "float?[]".
  std::string to_string() const;
  bool operator==(const SchemaType& o) const;

 private:
  SchemaType(Kind k, std::shared_ptr<const SchemaType> elem, std::optional<int64_t> fixed_size)
      : kind_(k), elem_(std::move(elem)), fixed_size_(fixed_size) {}
  Kind kind_;
  std::shared_ptr<const SchemaType> elem_;
  std::optional<int64_t> fixed_size_;
};

// An alias annotation: `Tensor(a)` (aliases set a), `Tensor(a!)` (and writes it).
struct AliasInfo {
  std::string set;
  bool is_write = false;
  bool operator==(const AliasInfo&) const = default;
};

struct SY_API Argument {
  std::string name;
  SchemaType type = SchemaType::base(SchemaType::Kind::Tensor);
  std::optional<IValue> default_value;
  bool kwarg_only = false;
  std::optional<AliasInfo> alias;

  // "Tensor(a!) out", "float factor=1.0"
  std::string to_string() const;
  bool operator==(const Argument& o) const;
};

struct SY_API Return {
  std::string name;  // empty when unnamed
  SchemaType type = SchemaType::base(SchemaType::Kind::Tensor);
  std::optional<AliasInfo> alias;

  std::string to_string() const;
  bool operator==(const Return& o) const;
};

class SY_API FunctionSchema {
 public:
  FunctionSchema() = default;
  FunctionSchema(std::string ns, std::string name, std::string overload,
                 std::vector<Argument> arguments, std::vector<Return> returns);

  // "my_lib" (empty when the text named no namespace).
  const std::string& ns() const { return ns_; }
  // "scale"
  const std::string& name() const { return name_; }
  // "out" (empty for the default overload).
  const std::string& overload_name() const { return overload_; }
  // "my_lib::scale"
  std::string qualified_name() const;
  // "my_lib::scale.out", or "my_lib::scale" for the default overload.
  std::string full_name() const;
  const std::vector<Argument>& arguments() const { return arguments_; }
  const std::vector<Return>& returns() const { return returns_; }

  // Sets the namespace (a Library adds its own to a schema written without one).
  void set_ns(std::string ns) { ns_ = std::move(ns); }
  // Whether any argument is written to (an alias annotation with '!').
  bool is_mutable() const;

  // The schema as text that parse_schema() reads back to an equal schema.
  std::string to_string() const;
  bool operator==(const FunctionSchema& o) const;

 private:
  std::string ns_;
  std::string name_;
  std::string overload_;
  std::vector<Argument> arguments_;
  std::vector<Return> returns_;
};

// Parses one schema. Throws sy::SchemaError showing where and what was expected:
//   expected ')' or ',' after argument at 1:22
//     bad(Tensor self, int) -> Tensor)
//                          ^
SY_API FunctionSchema parse_schema(std::string_view text);

// Parses an operator name "ns::name" or "ns::name.overload" (or without ns::).
// Returns {ns, name, overload}; throws sy::SchemaError when malformed.
struct SY_API OperatorName {
  std::string ns;
  std::string name;
  std::string overload;
  std::string full_name() const;  // "ns::name.overload"
};
SY_API OperatorName parse_operator_name(std::string_view text);

}  // namespace sy
