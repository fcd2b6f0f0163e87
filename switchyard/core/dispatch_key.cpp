#include "switchyard/core/dispatch_key.h"

#include <array>
#include <utility>

namespace sy {
namespace {

constexpr std::array<std::pair<DispatchKey, std::string_view>, 23> kNames{{
    {DispatchKey::Undefined, "Undefined"},
    {DispatchKey::CPU, "CPU"},
    {DispatchKey::CUDA, "CUDA"},
    {DispatchKey::Meta, "Meta"},
    {DispatchKey::PrivateUse1, "PrivateUse1"},
    {DispatchKey::Python, "Python"},
    {DispatchKey::DynamicLayerBackMode, "DynamicLayerBackMode"},
    {DispatchKey::ADInplaceOrView, "ADInplaceOrView"},
    {DispatchKey::AutogradOther, "AutogradOther"},
    {DispatchKey::AutogradCPU, "AutogradCPU"},
    {DispatchKey::AutogradCUDA, "AutogradCUDA"},
    {DispatchKey::AutogradMeta, "AutogradMeta"},
    {DispatchKey::AutogradPrivateUse1, "AutogradPrivateUse1"},
    {DispatchKey::Tracer, "Tracer"},
    {DispatchKey::Batched, "Batched"},
    {DispatchKey::GradWrapper, "GradWrapper"},
    {DispatchKey::PythonTLSSnapshot, "PythonTLSSnapshot"},
    {DispatchKey::DynamicLayerFrontMode, "DynamicLayerFrontMode"},
    {DispatchKey::EndOfRuntimeKeys, "EndOfRuntimeKeys"},
    {DispatchKey::Autograd, "Autograd"},
    {DispatchKey::CompositeImplicitAutograd, "CompositeImplicitAutograd"},
    {DispatchKey::CompositeExplicitAutograd, "CompositeExplicitAutograd"},
    {DispatchKey::CatchAll, "CatchAll"},
}};

}  // namespace

std::string_view to_string(DispatchKey k) {
  for (const auto& [key, name] : kNames) {
    if (key == k) return name;
  }
  return "UnknownKey";
}

std::optional<DispatchKey> parse_dispatch_key(std::string_view name) {
  for (const auto& [key, key_name] : kNames) {
    if (key_name == name && key != DispatchKey::EndOfRuntimeKeys) return key;
  }
  return std::nullopt;
}

}  // namespace sy
