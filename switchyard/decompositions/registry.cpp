#include "switchyard/decompositions/registry.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "switchyard/autograd/decomposition.h"

namespace sy::decompositions {
namespace {

struct Entry {
  KernelFunction kernel;
  std::shared_ptr<OperatorKernel> functor;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const Entry>, std::less<>> entries;
};

Registry& registry() {
  static auto* r = new Registry;  // never destroyed: lookups may run during exit
  return *r;
}

std::shared_ptr<const Entry> find(std::string_view name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.entries.find(name);
  return it == r.entries.end() ? nullptr : it->second;
}

// Autograd's view of the registry (seed 003's interface), installed at start-up.
class Interface final : public autograd::DecompositionInterface {
 public:
  bool has_decomposition(const FunctionSchema& schema) const override {
    return find(schema.full_name()) != nullptr;
  }
  void run_decomposition(const OperatorHandle& op, Stack* stack) const override {
    decompositions::run_decomposition(op, stack);
  }
};

Interface g_interface;
const autograd::DecompositionRegisterer g_registerer(&g_interface);

}  // namespace

void register_decomposition(std::string op_name, CppFunction fn) {
  auto entry = std::make_shared<Entry>(Entry{fn.kernel(), fn.functor()});
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.entries[std::move(op_name)] = std::move(entry);
}

bool remove_decomposition(std::string_view op_name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.entries.find(op_name);
  if (it == r.entries.end()) return false;
  r.entries.erase(it);
  return true;
}

bool has_decomposition(std::string_view op_name) { return find(op_name) != nullptr; }

void run_decomposition(const OperatorHandle& op, Stack* stack) {
  const std::shared_ptr<const Entry> e = find(op.name());
  SY_CHECK(e != nullptr, DispatchError, "{}: has no decomposition (decompositions exist for: {})",
           op.name(), fmt::join(decomposed_ops(), ", "));
  e->kernel.call_boxed(op, DispatchKeySet(), stack);
}

std::vector<std::string> decomposed_ops() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> out;
  for (const auto& [name, e] : r.entries) out.push_back(name);
  return out;
}

}  // namespace sy::decompositions
