#include "switchyard/tensor/device.h"

#include <charconv>

#include "switchyard/core/error.h"

namespace sy {

std::string_view to_string(DeviceType t) {
  switch (t) {
    case DeviceType::CPU: return "cpu";
    case DeviceType::CUDA: return "cuda";
    case DeviceType::Meta: return "meta";
    case DeviceType::PrivateUse1: return "privateuse1";
  }
  return "unknown";
}

Device::Device(std::string_view text) : type_(DeviceType::CPU), index_(-1) {
  const auto colon = text.find(':');
  const std::string_view type_name = text.substr(0, colon);
  bool found = false;
  for (int i = 0; i < kNumDeviceTypes; ++i) {
    if (to_string(static_cast<DeviceType>(i)) == type_name) {
      type_ = static_cast<DeviceType>(i);
      found = true;
    }
  }
  SY_CHECK(found, ValueError,
           "Device(\"{}\"): unknown device type '{}'. Expected one of cpu, meta, privateuse1, "
           "cuda, optionally followed by ':index' (e.g. \"cuda:0\").",
           text, type_name);
  if (colon != std::string_view::npos) {
    const std::string_view digits = text.substr(colon + 1);
    int value = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    SY_CHECK(ec == std::errc() && end == digits.data() + digits.size() && value >= 0 &&
                 value < 128 && !digits.empty(),
             ValueError, "Device(\"{}\"): the index after ':' must be an integer in [0, 127].",
             text);
    index_ = static_cast<int8_t>(value);
  }
}

std::string Device::str() const {
  std::string out(to_string(type_));
  if (index_ >= 0) out += ":" + std::to_string(index_);
  return out;
}

}  // namespace sy
