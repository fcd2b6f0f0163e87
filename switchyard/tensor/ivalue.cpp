#include "switchyard/tensor/ivalue.h"

#include <fmt/format.h>

namespace sy {

std::string_view to_string(IValue::Tag tag) {
  switch (tag) {
    case IValue::Tag::None: return "None";
    case IValue::Tag::Bool: return "bool";
    case IValue::Tag::Int: return "int";
    case IValue::Tag::Double: return "float";
    case IValue::Tag::String: return "str";
    case IValue::Tag::Tensor: return "Tensor";
    case IValue::Tag::IntList: return "int[]";
    case IValue::Tag::DoubleList: return "float[]";
    case IValue::Tag::BoolList: return "bool[]";
    case IValue::Tag::TensorList: return "Tensor[]";
    case IValue::Tag::ScalarType: return "ScalarType";
    case IValue::Tag::Device: return "Device";
  }
  return "unknown";
}

IValue::IValue(const Scalar& s) {
  switch (s.kind()) {
    case Scalar::Kind::Bool:
      tag_ = Tag::Bool;
      payload_.i = s.to<bool>();
      break;
    case Scalar::Kind::Int:
      tag_ = Tag::Int;
      payload_.i = s.to<int64_t>();
      break;
    case Scalar::Kind::Double:
      tag_ = Tag::Double;
      payload_.d = s.to<double>();
      break;
  }
}

double IValue::to_double() const {
  if (tag_ == Tag::Int) return static_cast<double>(payload_.i);
  check(Tag::Double);
  return payload_.d;
}

Scalar IValue::to_scalar() const {
  switch (tag_) {
    case Tag::Bool: return Scalar(payload_.i != 0);
    case Tag::Int: return Scalar(payload_.i);
    case Tag::Double: return Scalar(payload_.d);
    default:
      SY_THROW(TypeError, "expected a Scalar (bool, int or float) but got a value of type {}",
               type_name());
  }
}

std::string_view IValue::type_name() const { return to_string(tag_); }

void IValue::throw_wrong_type(Tag expected) const {
  SY_THROW(TypeError, "expected a value of type {} but got one of type {}", to_string(expected),
           type_name());
}

namespace {
template <typename T, typename F>
std::string join(const std::vector<T>& v, F format) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += format(v[i]);
  }
  return out + "]";
}
}  // namespace

std::string IValue::repr() const {
  switch (tag_) {
    case Tag::None: return "None";
    case Tag::Bool:
    case Tag::Int:
    case Tag::Double: return to_scalar().str();
    case Tag::String: {
      std::string out = "\"";
      for (char c : box<std::string>()) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    case Tag::Tensor: return payload_.t.to_string();
    case Tag::IntList:
      return join(box<std::vector<int64_t>>(), [](int64_t v) { return std::to_string(v); });
    case Tag::DoubleList:
      return join(box<std::vector<double>>(), [](double v) { return Scalar(v).str(); });
    case Tag::BoolList:
      return join(box<std::vector<bool>>(),
                  [](bool v) { return std::string(v ? "True" : "False"); });
    case Tag::TensorList:
      return join(box<std::vector<Tensor>>(), [](const Tensor& t) { return t.to_string(); });
    case Tag::ScalarType: return std::string(to_string(payload_.st));
    case Tag::Device: return "\"" + payload_.dev.str() + "\"";
  }
  return "?";
}

bool IValue::operator==(const IValue& o) const {
  if (tag_ != o.tag_) return false;
  switch (tag_) {
    case Tag::None: return true;
    case Tag::Bool:
    case Tag::Int: return payload_.i == o.payload_.i;
    case Tag::Double: return payload_.d == o.payload_.d;
    case Tag::String: return box<std::string>() == o.box<std::string>();
    case Tag::Tensor: return payload_.t.is_same(o.payload_.t);
    case Tag::IntList: return box<std::vector<int64_t>>() == o.box<std::vector<int64_t>>();
    case Tag::DoubleList: return box<std::vector<double>>() == o.box<std::vector<double>>();
    case Tag::BoolList: return box<std::vector<bool>>() == o.box<std::vector<bool>>();
    case Tag::TensorList: {
      const auto& a = box<std::vector<Tensor>>();
      const auto& b = o.box<std::vector<Tensor>>();
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_same(b[i])) return false;
      }
      return true;
    }
    case Tag::ScalarType: return payload_.st == o.payload_.st;
    case Tag::Device: return payload_.dev == o.payload_.dev;
  }
  return false;
}

}  // namespace sy
