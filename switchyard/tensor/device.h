// Where a tensor's data lives. cpu and meta always exist (meta holds shapes and
// no data); privateuse1 is a backend that code outside the library supplies by
// registering an allocator and kernels; cuda is reserved for a CUDA build.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/core/dispatch_key.h"
#include "switchyard/core/export.h"

namespace sy {

enum class DeviceType : int8_t { CPU, CUDA, Meta, PrivateUse1 };
inline constexpr int kNumDeviceTypes = 4;

class SY_API Device {
 public:
  constexpr Device(DeviceType type = DeviceType::CPU, int8_t index = -1)
      : type_(type), index_(index) {}
  // Parses "cpu", "meta", "privateuse1", "cuda", "cuda:1"; a bad string is a ValueError.
  Device(std::string_view text);  // NOLINT: implicit, as sy.Device("meta") reads
  Device(const char* text) : Device(std::string_view(text)) {}  // NOLINT

  constexpr DeviceType type() const { return type_; }
  // The device's index, -1 when none was given.
  constexpr int8_t index() const { return index_; }
  constexpr bool is_cpu() const { return type_ == DeviceType::CPU; }
  constexpr bool is_meta() const { return type_ == DeviceType::Meta; }
  constexpr bool operator==(const Device&) const = default;

  // "cpu", "cuda:1", ...
  std::string str() const;

 private:
  DeviceType type_;
  int8_t index_;
};

SY_API std::string_view to_string(DeviceType t);

// The backend dispatch key for tensors on `t`.
constexpr DispatchKey backend_key_for(DeviceType t) {
  switch (t) {
    case DeviceType::CPU: return DispatchKey::CPU;
    case DeviceType::CUDA: return DispatchKey::CUDA;
    case DeviceType::Meta: return DispatchKey::Meta;
    case DeviceType::PrivateUse1: return DispatchKey::PrivateUse1;
  }
  return DispatchKey::Undefined;
}

inline constexpr Device kCPU{DeviceType::CPU};
inline constexpr Device kMeta{DeviceType::Meta};

}  // namespace sy
