#include "switchyard/trace/passes.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "switchyard/core/tracer_mode.h"

namespace sy {
namespace {

// Ops whose results differ from run to run (or are uninitialised memory), which
// constant folding must leave alone.
bool is_nondeterministic(const FunctionSchema& s) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "rand", "randn", "rand_like", "randn_like", "empty", "empty_like", "randint", "normal"};
  return std::find(kNames.begin(), kNames.end(), s.name()) != kNames.end();
}

bool argument_is_aliased(const FunctionSchema& s, size_t i) {
  return i < s.arguments().size() && s.arguments()[i].alias.has_value();
}

}  // namespace

size_t eliminate_dead_code(Graph& g) {
  const std::vector<Node*>& nodes = g.nodes();
  std::unordered_set<const Value*> used(g.outputs().begin(), g.outputs().end());
  std::vector<bool> live(nodes.size(), false);
  for (size_t i = nodes.size(); i-- > 0;) {
    const Node& n = *nodes[i];
    bool keep = n.writes_arguments();
    for (const NodeOutput& o : n.outputs()) {
      if (o.value && used.count(o.value)) keep = true;
      for (const Value* v : o.list) keep = keep || used.count(v);
    }
    if (!keep) continue;
    live[i] = true;
    for (const NodeArg& a : n.args()) {
      if (a.value) used.insert(a.value);
      used.insert(a.list.begin(), a.list.end());
    }
  }
  std::vector<Node*> kept;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (live[i]) kept.push_back(nodes[i]);
  }
  const size_t removed = nodes.size() - kept.size();
  g.keep_nodes(std::move(kept));
  g.drop_unused_values();
  return removed;
}

size_t fold_constants(Graph& g) {
  // Values some node views or writes, or that leave the graph: folding them
  // would share one tensor between runs.
  std::unordered_set<const Value*> pinned(g.outputs().begin(), g.outputs().end());
  for (const Node* n : g.nodes()) {
    for (size_t a = 0; a < n->args().size(); ++a) {
      if (!argument_is_aliased(n->schema(), a)) continue;
      if (n->args()[a].value) pinned.insert(n->args()[a].value);
      pinned.insert(n->args()[a].list.begin(), n->args()[a].list.end());
    }
  }
  auto is_constant = [](const Value* v) { return v->kind() == Value::Kind::Constant; };
  tracer::NoTracerDispatchMode no_tracing;  // folding is not part of any trace
  size_t folded = 0;
  std::vector<Node*> kept;
  for (Node* node : g.nodes()) {
    const Node& n = *node;
    bool foldable =
        !n.writes_arguments() && !is_nondeterministic(n.schema()) && n.op().is_defined();
    for (const NodeArg& a : n.args()) {
      if (a.kind == NodeArg::Kind::Value) foldable = foldable && is_constant(a.value);
      for (const Value* v : a.list) foldable = foldable && is_constant(v);
    }
    for (const NodeOutput& o : n.outputs()) {
      if (o.value) foldable = foldable && o.value->is_tensor() && !pinned.count(o.value);
      for (const Value* v : o.list) foldable = foldable && !pinned.count(v);
    }
    if (!foldable) {
      kept.push_back(node);
      continue;
    }
    Stack stack;
    for (const NodeArg& a : n.args()) {
      switch (a.kind) {
        case NodeArg::Kind::Value: stack.push_back(a.value->constant()); break;
        case NodeArg::Kind::ValueList: {
          std::vector<Tensor> ts;
          for (const Value* v : a.list) ts.push_back(v->constant().to_tensor());
          stack.emplace_back(std::move(ts));
          break;
        }
        case NodeArg::Kind::Constant: stack.push_back(a.constant); break;
      }
    }
    n.op().call_boxed(stack);
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      const NodeOutput& o = n.outputs()[i];
      if (o.value) {
        g.make_constant(o.value, stack[i]);
      } else {
        const auto& ts = stack[i].to_tensor_list();
        for (size_t j = 0; j < o.list.size(); ++j) g.make_constant(o.list[j], IValue(ts[j]));
      }
    }
    ++folded;
  }
  g.keep_nodes(std::move(kept));
  return folded;
}

}  // namespace sy
