// IValue: one boxed value of any type a schema can name (None, bool, int, float,
// str, Tensor, lists of int / float / bool / Tensor, ScalarType, Device), and
// Stack, the vector of IValues that boxed kernels take their arguments from and
// leave their results on. A Scalar boxes as a bool, int or float; an optional
// Tensor as a Tensor or None.
//
// An IValue is 16 bytes: a tag and a payload. Tensors and heap values (strings,
// lists) are reference counted, so copying an IValue never copies a list.
#pragma once

#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/array_ref.h"
#include "switchyard/tensor/device.h"
#include "switchyard/tensor/scalar.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

namespace detail {
struct IValueHeap : RefCounted {};
template <typename T>
struct IValueBox final : IValueHeap {
  explicit IValueBox(T v) : value(std::move(v)) {}
  T value;
};
}  // namespace detail

class SY_API IValue {
 public:
  enum class Tag : uint8_t {
    None,
    Bool,
    Int,
    Double,
    String,
    Tensor,
    IntList,
    DoubleList,
    BoolList,
    TensorList,
    ScalarType,
    Device,
  };

  IValue() : tag_(Tag::None) { payload_.i = 0; }
  IValue(std::nullopt_t) : IValue() {}                  // NOLINT
  IValue(bool v) : tag_(Tag::Bool) { payload_.i = v; }  // NOLINT
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  IValue(T v) : tag_(Tag::Int) {  // NOLINT
    payload_.i = static_cast<int64_t>(v);
  }
  IValue(double v) : tag_(Tag::Double) { payload_.d = v; }                          // NOLINT
  IValue(float v) : IValue(static_cast<double>(v)) {}                               // NOLINT
  IValue(const Scalar& s);                                                          // NOLINT
  IValue(Tensor t) : tag_(Tag::Tensor) { new (&payload_.t) Tensor(std::move(t)); }  // NOLINT
  IValue(std::optional<Tensor> t) : IValue() {                                      // NOLINT
    if (t) *this = IValue(std::move(*t));
  }
  IValue(std::string s) : tag_(Tag::String) { set_heap(std::move(s)); }              // NOLINT
  IValue(std::string_view s) : IValue(std::string(s)) {}                             // NOLINT
  IValue(const char* s) : IValue(std::string(s)) {}                                  // NOLINT
  IValue(std::vector<int64_t> v) : tag_(Tag::IntList) { set_heap(std::move(v)); }    // NOLINT
  IValue(IntArrayRef v) : IValue(v.vec()) {}                                         // NOLINT
  IValue(std::vector<double> v) : tag_(Tag::DoubleList) { set_heap(std::move(v)); }  // NOLINT
  IValue(std::vector<bool> v) : tag_(Tag::BoolList) { set_heap(std::move(v)); }      // NOLINT
  IValue(std::vector<Tensor> v) : tag_(Tag::TensorList) { set_heap(std::move(v)); }  // NOLINT
  IValue(ScalarType t) : tag_(Tag::ScalarType) { payload_.st = t; }                  // NOLINT
  IValue(Device d) : tag_(Tag::Device) { payload_.dev = d; }                         // NOLINT

  IValue(const IValue& o) : tag_(o.tag_) {
    if (tag_ == Tag::Tensor) {
      new (&payload_.t) Tensor(o.payload_.t);
    } else {
      payload_.raw = o.payload_.raw;
      if (is_heap()) payload_.heap->incref();
    }
  }
  IValue(IValue&& o) noexcept : tag_(o.tag_) { take(o); }
  IValue& operator=(const IValue& o) {
    IValue(o).swap(*this);
    return *this;
  }
  IValue& operator=(IValue&& o) noexcept {
    IValue(std::move(o)).swap(*this);
    return *this;
  }
  ~IValue() { release(); }
  void swap(IValue& o) noexcept {
    IValue tmp(std::move(o));
    o.tag_ = tag_;
    o.take(*this);
    tag_ = tmp.tag_;
    take(tmp);
  }

  Tag tag() const { return tag_; }
  bool is_none() const { return tag_ == Tag::None; }
  bool is_bool() const { return tag_ == Tag::Bool; }
  bool is_int() const { return tag_ == Tag::Int; }
  bool is_double() const { return tag_ == Tag::Double; }
  bool is_scalar() const { return is_bool() || is_int() || is_double(); }
  bool is_string() const { return tag_ == Tag::String; }
  bool is_tensor() const { return tag_ == Tag::Tensor; }
  bool is_int_list() const { return tag_ == Tag::IntList; }
  bool is_double_list() const { return tag_ == Tag::DoubleList; }
  bool is_bool_list() const { return tag_ == Tag::BoolList; }
  bool is_tensor_list() const { return tag_ == Tag::TensorList; }
  bool is_scalar_type() const { return tag_ == Tag::ScalarType; }
  bool is_device() const { return tag_ == Tag::Device; }

  // Checked accessors: a value of another type throws sy::TypeError naming both.
  bool to_bool() const { return check(Tag::Bool), payload_.i != 0; }
  int64_t to_int() const { return check(Tag::Int), payload_.i; }
  // A float, or an int converted to float (as a schema's float accepts ints).
  double to_double() const;
  Scalar to_scalar() const;
  const std::string& to_string_ref() const { return check(Tag::String), box<std::string>(); }
  // The tensor, borrowed: valid while this IValue holds it.
  const Tensor& to_tensor_ref() const { return check(Tag::Tensor), payload_.t; }
  Tensor to_tensor() const& { return to_tensor_ref(); }
  Tensor to_tensor() && {
    check(Tag::Tensor);
    Tensor t = std::move(payload_.t);
    payload_.t.~Tensor();
    tag_ = Tag::None;
    payload_.i = 0;
    return t;
  }
  // The tensor a Tensor? argument holds: nothing for None.
  std::optional<Tensor> to_optional_tensor() const {
    if (is_none()) return std::nullopt;
    return to_tensor();
  }
  // The tensor's impl, no reference taken, no check; for key extraction.
  TensorImpl* tensor_impl_unchecked() const { return payload_.t.impl(); }
  const std::vector<int64_t>& to_int_list() const {
    return check(Tag::IntList), box<std::vector<int64_t>>();
  }
  const std::vector<double>& to_double_list() const {
    return check(Tag::DoubleList), box<std::vector<double>>();
  }
  const std::vector<bool>& to_bool_list() const {
    return check(Tag::BoolList), box<std::vector<bool>>();
  }
  const std::vector<Tensor>& to_tensor_list() const {
    return check(Tag::TensorList), box<std::vector<Tensor>>();
  }
  ScalarType to_scalar_type() const { return check(Tag::ScalarType), payload_.st; }
  Device to_device() const { return check(Tag::Device), payload_.dev; }

  // The schema type name of the value: "Tensor", "int", "float[]", "None", ...
  std::string_view type_name() const;
  // The value as schema text: 1, 2.5, True, "s", [1, 2], None, float32, "cpu".
  std::string repr() const;
  // Equal values; tensors compare by identity.
  bool operator==(const IValue& o) const;

 private:
  void check(Tag expected) const {
    if (SY_UNLIKELY(tag_ != expected)) throw_wrong_type(expected);
  }
  [[noreturn]] void throw_wrong_type(Tag expected) const;
  template <typename T>
  void set_heap(T v) {
    payload_.heap = new detail::IValueBox<T>(std::move(v));
  }
  template <typename T>
  const T& box() const {
    return static_cast<const detail::IValueBox<T>*>(payload_.heap)->value;
  }
  bool is_heap() const {
    return tag_ == Tag::String || tag_ == Tag::IntList || tag_ == Tag::DoubleList ||
           tag_ == Tag::BoolList || tag_ == Tag::TensorList;
  }
  // Moves `o`'s payload into this one (whose tag is already o's), leaving o None.
  void take(IValue& o) noexcept {
    if (tag_ == Tag::Tensor) {
      new (&payload_.t) Tensor(std::move(o.payload_.t));
      o.payload_.t.~Tensor();
    } else {
      payload_.raw = o.payload_.raw;
    }
    o.tag_ = Tag::None;
    o.payload_.i = 0;
  }
  void release() {
    if (tag_ == Tag::Tensor) {
      payload_.t.~Tensor();
    } else if (is_heap()) {
      payload_.heap->decref();
    }
  }

  Tag tag_;
  // The payload of every tag but Tensor, copied as one word.
  struct RawBits {
    uint64_t bits = 0;
  };
  union Payload {
    int64_t i;
    double d;
    ScalarType st;
    Device dev;
    Tensor t;
    detail::IValueHeap* heap;
    RawBits raw;
    Payload() : i(0) {}
    ~Payload() {}
  } payload_;
  static_assert(sizeof(Payload) == sizeof(uint64_t), "an IValue is a tag and one word");
};

// The name of an IValue tag as a schema spells the type ("Tensor", "int[]", ...).
SY_API std::string_view to_string(IValue::Tag tag);

using Stack = std::vector<IValue>;

}  // namespace sy
