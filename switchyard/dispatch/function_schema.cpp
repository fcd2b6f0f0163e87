#include "switchyard/dispatch/function_schema.h"

#include <unordered_set>

#include "switchyard/core/error.h"
#include "switchyard/tensor/layout.h"

namespace sy {

namespace {

std::string_view base_name(SchemaType::Kind k) {
  switch (k) {
    case SchemaType::Kind::Tensor: return "Tensor";
    case SchemaType::Kind::Int: return "int";
    case SchemaType::Kind::Float: return "float";
    case SchemaType::Kind::Bool: return "bool";
    case SchemaType::Kind::Str: return "str";
    case SchemaType::Kind::Scalar: return "Scalar";
    case SchemaType::Kind::ScalarType: return "ScalarType";
    case SchemaType::Kind::Device: return "Device";
    case SchemaType::Kind::Layout: return "Layout";
    case SchemaType::Kind::MemoryFormat: return "MemoryFormat";
    case SchemaType::Kind::Generator: return "Generator";
    case SchemaType::Kind::List:
    case SchemaType::Kind::Optional: break;
  }
  return "?";
}

// Prints `type` with the alias annotation after its base name, where the schema
// language puts it: `Tensor(a!)[]`, not `Tensor[](a!)`.
std::string type_with_alias(const SchemaType& type, const std::optional<AliasInfo>& alias) {
  switch (type.kind()) {
    case SchemaType::Kind::List: {
      std::string out = type_with_alias(type.elem(), alias);
      if (type.fixed_size()) return fmt::format("{}[{}]", out, *type.fixed_size());
      return out + "[]";
    }
    case SchemaType::Kind::Optional: return type_with_alias(type.elem(), alias) + "?";
    default: {
      std::string out(base_name(type.kind()));
      if (alias) out += fmt::format("({}{})", alias->set, alias->is_write ? "!" : "");
      return out;
    }
  }
}

// Whether `v` fits in a list whose elements have type `elem`. IValue has list
// tags for int, float, bool and Tensor elements only; a Tensor?[] is carried as
// a Tensor list whose missing entries are undefined tensors.
bool list_accepts(const SchemaType& elem, const IValue& v) {
  switch (elem.kind()) {
    case SchemaType::Kind::Int: return v.is_int_list();
    case SchemaType::Kind::Float: return v.is_double_list();
    case SchemaType::Kind::Bool: return v.is_bool_list();
    case SchemaType::Kind::Tensor: return v.is_tensor_list();
    case SchemaType::Kind::Optional: return elem.elem().is_tensor() && v.is_tensor_list();
    default: return false;
  }
}

size_t list_length(const IValue& v) {
  if (v.is_int_list()) return v.to_int_list().size();
  if (v.is_double_list()) return v.to_double_list().size();
  if (v.is_bool_list()) return v.to_bool_list().size();
  if (v.is_tensor_list()) return v.to_tensor_list().size();
  return 0;
}

// A string default as the parser reads it back. IValue::repr escapes only quotes
// and backslashes, which would print a newline in a default as a line break.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

}  // namespace

bool SchemaType::accepts(const IValue& v) const {
  switch (kind_) {
    case Kind::Tensor: return v.is_tensor();
    case Kind::Int: return v.is_int();
    case Kind::Float: return v.is_double() || v.is_int();
    case Kind::Bool: return v.is_bool();
    case Kind::Str: return v.is_string();
    case Kind::Scalar: return v.is_scalar();
    case Kind::ScalarType: return v.is_scalar_type();
    case Kind::Device: return v.is_device();
    case Kind::Layout: return v.is_int() && layout_from_int(v.to_int()).has_value();
    case Kind::MemoryFormat: return v.is_int() && memory_format_from_int(v.to_int()).has_value();
    case Kind::Generator:
      return false;  // no generator objects exist: only None, via Generator?
    // int[N] with N >= 2 takes N values or none; int[1] is PyTorch's spelling of "dims"
    // (`int[1] dim=[]`) and takes any length (list_size_fits).
    case Kind::List: return list_accepts(*elem_, v) && list_size_fits(list_length(v));
    case Kind::Optional: return v.is_none() || elem_->accepts(v);
  }
  return false;
}

std::string SchemaType::to_string() const { return type_with_alias(*this, std::nullopt); }

bool SchemaType::operator==(const SchemaType& o) const {
  if (kind_ != o.kind_ || fixed_size_ != o.fixed_size_) return false;
  if (!elem_ || !o.elem_) return !elem_ && !o.elem_;
  return *elem_ == *o.elem_;
}

// How a default prints: strings quoted, layouts and memory formats by name.
std::string default_text(const SchemaType& type, const IValue& v) {
  if (v.is_string()) return quoted(v.to_string_ref());
  const SchemaType& t = type.kind() == SchemaType::Kind::Optional ? type.elem() : type;
  if (v.is_int() && t.kind() == SchemaType::Kind::Layout) {
    if (auto l = layout_from_int(v.to_int())) return std::string(sy::to_string(*l));
  }
  if (v.is_int() && t.kind() == SchemaType::Kind::MemoryFormat) {
    if (auto m = memory_format_from_int(v.to_int())) return std::string(sy::to_string(*m));
  }
  return v.repr();
}

std::string Argument::to_string() const {
  std::string out = type_with_alias(type, alias) + " " + name;
  if (default_value) out += "=" + default_text(type, *default_value);
  return out;
}

bool Argument::operator==(const Argument& o) const {
  return name == o.name && type == o.type && default_value == o.default_value &&
         kwarg_only == o.kwarg_only && alias == o.alias;
}

std::string Return::to_string() const {
  std::string out = type_with_alias(type, alias);
  if (!name.empty()) out += " " + name;
  return out;
}

bool Return::operator==(const Return& o) const {
  return name == o.name && type == o.type && alias == o.alias;
}

FunctionSchema::FunctionSchema(std::string ns, std::string name, std::string overload,
                               std::vector<Argument> arguments, std::vector<Return> returns)
    : ns_(std::move(ns)),
      name_(std::move(name)),
      overload_(std::move(overload)),
      arguments_(std::move(arguments)),
      returns_(std::move(returns)) {
  // to_string() writes one `*` before the first keyword-only argument, so a
  // positional argument after it could not be printed faithfully.
  bool seen_kwarg_only = false;
  std::unordered_set<std::string_view> names;
  for (const Argument& a : arguments_) {
    SY_CHECK(!seen_kwarg_only || a.kwarg_only, SchemaError,
             "{}: positional argument '{}' follows a keyword-only argument", full_name(), a.name);
    seen_kwarg_only = a.kwarg_only;
    SY_CHECK(names.insert(a.name).second, SchemaError, "{}: duplicate argument name '{}'",
             full_name(), a.name);
  }
}

std::string FunctionSchema::qualified_name() const {
  return ns_.empty() ? name_ : ns_ + "::" + name_;
}

std::string FunctionSchema::full_name() const {
  return overload_.empty() ? qualified_name() : qualified_name() + "." + overload_;
}

bool FunctionSchema::is_mutable() const {
  for (const Argument& a : arguments_) {
    if (a.alias && a.alias->is_write) return true;
  }
  return false;
}

std::string FunctionSchema::to_string() const {
  std::string out = full_name() + "(";
  bool wrote_star = false;
  for (size_t i = 0; i < arguments_.size(); ++i) {
    if (i) out += ", ";
    if (arguments_[i].kwarg_only && !wrote_star) {
      out += "*, ";
      wrote_star = true;
    }
    out += arguments_[i].to_string();
  }
  out += ") -> ";
  // A single unnamed return prints bare; a named one needs the parentheses,
  // as `-> Tensor out` would read as trailing text.
  if (returns_.size() == 1 && returns_[0].name.empty()) return out + returns_[0].to_string();
  out += "(";
  for (size_t i = 0; i < returns_.size(); ++i) {
    if (i) out += ", ";
    out += returns_[i].to_string();
  }
  return out + ")";
}

bool FunctionSchema::operator==(const FunctionSchema& o) const {
  return ns_ == o.ns_ && name_ == o.name_ && overload_ == o.overload_ &&
         arguments_ == o.arguments_ && returns_ == o.returns_;
}

std::string OperatorName::full_name() const {
  std::string out = ns.empty() ? name : ns + "::" + name;
  return overload.empty() ? out : out + "." + overload;
}

}  // namespace sy
