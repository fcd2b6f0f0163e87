#include "switchyard/trace/graph_file.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "switchyard/core/tracer_mode.h"
#include "switchyard/dispatch/dispatcher.h"

namespace sy {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the graph file is little-endian and written with memcpy");

constexpr char kMagic[8] = {'S', 'Y', 'G', 'R', 'A', 'P', 'H', '\0'};
constexpr size_t kHeaderBytes = 32;
constexpr uint32_t kMaxDims = 64;

// The kinds of value records (docs/aot.md, "Values").
enum class ValueRecord : uint8_t { Input = 0, Output = 1, Constant = 2 };
// The kinds of node arguments (docs/aot.md, "Nodes").
enum class ArgRecord : uint8_t { Value = 0, ValueList = 1, Constant = 2 };
// The tags of constants (docs/aot.md, "Nodes"): fixed by the format, whatever
// IValue's own tags become.
enum class ConstantRecord : uint8_t {
  None = 0,
  Bool = 1,
  Int = 2,
  Float = 3,
  String = 4,
  IntList = 6,
  FloatList = 7,
  BoolList = 8,
  Dtype = 10,
  Device = 11,
};

// ---- writing ----------------------------------------------------------------------------

class Writer {
 public:
  template <typename T>
  void pod(T v) {
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void u8(uint8_t v) { pod(v); }
  void u32(size_t v) {
    SY_CHECK(v <= std::numeric_limits<uint32_t>::max(), GraphFileError,
             "Graph::save: {} does not fit the file's 32-bit counts", v);
    pod(static_cast<uint32_t>(v));
  }
  void str(std::string_view s) {
    u32(s.size());
    out_.append(s);
  }
  void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void write_ivalue(Writer& w, const IValue& v) {
  auto tag = [&](ConstantRecord t) { w.u8(static_cast<uint8_t>(t)); };
  switch (v.tag()) {
    case IValue::Tag::None: return tag(ConstantRecord::None);
    case IValue::Tag::Bool: tag(ConstantRecord::Bool); return w.u8(v.to_bool() ? 1 : 0);
    case IValue::Tag::Int: tag(ConstantRecord::Int); return w.pod<int64_t>(v.to_int());
    case IValue::Tag::Double: tag(ConstantRecord::Float); return w.pod<double>(v.to_double());
    case IValue::Tag::String: tag(ConstantRecord::String); return w.str(v.to_string_ref());
    case IValue::Tag::IntList:
      tag(ConstantRecord::IntList);
      w.u32(v.to_int_list().size());
      for (int64_t i : v.to_int_list()) w.pod<int64_t>(i);
      return;
    case IValue::Tag::DoubleList:
      tag(ConstantRecord::FloatList);
      w.u32(v.to_double_list().size());
      for (double d : v.to_double_list()) w.pod<double>(d);
      return;
    case IValue::Tag::BoolList:
      tag(ConstantRecord::BoolList);
      w.u32(v.to_bool_list().size());
      for (bool b : v.to_bool_list()) w.u8(b ? 1 : 0);
      return;
    case IValue::Tag::ScalarType:
      tag(ConstantRecord::Dtype);
      return w.str(to_string(v.to_scalar_type()));
    case IValue::Tag::Device: tag(ConstantRecord::Device); return w.str(v.to_device().str());
    case IValue::Tag::Tensor:
    case IValue::Tag::TensorList: break;
  }
  throw GraphFileError(
      "Graph::save: a node has a tensor among its constant arguments; tensors are graph "
      "values (inputs, constants or node outputs), which the file stores by reference");
}

void write_type(Writer& w, const Value& v) {
  w.u8(v.is_tensor() ? 1 : 0);
  if (!v.is_tensor()) return w.str(v.non_tensor_type());
  w.str(to_string(v.dtype()));
  w.str(v.device().str());
  w.u32(v.sizes().size());
  for (int64_t s : v.sizes()) w.pod<int64_t>(s);
}

void write_constant_data(Writer& w, const Value& v) {
  const Tensor& t = v.constant().to_tensor_ref();
  SY_CHECK(t.device().is_cpu() || t.device().is_meta(), GraphFileError,
           "Graph::save: constant %{} is on device {}; the file holds cpu (and meta) tensors",
           v.id(), t.device().str());
  if (t.device().is_meta()) return w.pod<uint64_t>(0);
  const Tensor c = t.contiguous();
  const uint64_t nbytes = static_cast<uint64_t>(c.numel()) * element_size(c.dtype());
  w.pod<uint64_t>(nbytes);
  w.bytes(c.raw_data(), nbytes);
}

// ---- reading ----------------------------------------------------------------------------

class Reader {
 public:
  Reader(std::string_view bytes, std::string_view what) : in_(bytes), what_(what) {}

  template <typename T>
  T pod(const char* field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  uint8_t u8(const char* field) { return pod<uint8_t>(field); }
  uint32_t u32(const char* field) { return pod<uint32_t>(field); }
  // A count of items of at least `min_item_bytes` each: more than the bytes
  // left can hold is corruption, caught before anything is allocated for it.
  uint32_t count(const char* field, size_t min_item_bytes) {
    const uint32_t n = u32(field);
    if (static_cast<uint64_t>(n) * min_item_bytes > left()) {
      fail(fmt::format("{} says {} items, more than the {} bytes left can hold", field, n, left()));
    }
    return n;
  }
  std::string_view str(const char* field) {
    const uint32_t n = u32(field);
    need(n, field);
    std::string_view s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  const char* bytes(size_t n, const char* field) {
    need(n, field);
    const char* p = in_.data() + at_;
    at_ += n;
    return p;
  }
  size_t left() const { return in_.size() - at_; }
  size_t offset() const { return at_; }

  [[noreturn]] void fail(const std::string& message) const {
    throw GraphFileError(
        fmt::format("Graph::load: {}: {} (at byte {} of the payload)", what_, message, at_));
  }

 private:
  void need(size_t n, const char* field) {
    if (n > left()) {
      fail(fmt::format("the file is truncated: {} needs {} bytes, {} are left", field, n, left()));
    }
  }
  std::string_view in_;
  std::string_view what_;
  size_t at_ = 0;
};

ScalarType read_dtype(Reader& r) {
  const std::string_view name = r.str("a dtype");
  const std::optional<ScalarType> t = parse_scalar_type(name);
  if (!t) r.fail(fmt::format("unknown dtype '{}'", name));
  return *t;
}

Device read_device(Reader& r) {
  const std::string_view text = r.str("a device");
  try {
    return Device(text);
  } catch (const Error&) {
    r.fail(fmt::format("unknown device '{}'", text));
  }
}

IValue read_ivalue(Reader& r) {
  const uint8_t tag = r.u8("a constant's tag");
  switch (static_cast<ConstantRecord>(tag)) {
    case ConstantRecord::None: return IValue();
    case ConstantRecord::Bool: return IValue(r.u8("a bool") != 0);
    case ConstantRecord::Int: return IValue(r.pod<int64_t>("an int"));
    case ConstantRecord::Float: return IValue(r.pod<double>("a float"));
    case ConstantRecord::String: return IValue(std::string(r.str("a string")));
    case ConstantRecord::IntList: {
      std::vector<int64_t> v(r.count("an int list", sizeof(int64_t)));
      for (int64_t& i : v) i = r.pod<int64_t>("an int list");
      return IValue(std::move(v));
    }
    case ConstantRecord::FloatList: {
      std::vector<double> v(r.count("a float list", sizeof(double)));
      for (double& d : v) d = r.pod<double>("a float list");
      return IValue(std::move(v));
    }
    case ConstantRecord::BoolList: {
      std::vector<bool> v(r.count("a bool list", 1));
      for (size_t i = 0; i < v.size(); ++i) v[i] = r.u8("a bool list") != 0;
      return IValue(std::move(v));
    }
    case ConstantRecord::Dtype: return IValue(read_dtype(r));
    case ConstantRecord::Device: return IValue(read_device(r));
  }
  r.fail(fmt::format("constant tag {} is not one of the format's", tag));
}

struct ReadType {
  ValueType type;
  int64_t numel = 1;
};

ReadType read_type(Reader& r) {
  ReadType t;
  const uint8_t is_tensor = r.u8("a value's kind of type");
  if (is_tensor > 1) r.fail(fmt::format("a value's tensor flag is {}, not 0 or 1", is_tensor));
  t.type.is_tensor = is_tensor == 1;
  if (!t.type.is_tensor) {
    t.type.non_tensor = std::string(r.str("a type name"));
    return t;
  }
  t.type.dtype = read_dtype(r);
  t.type.device = read_device(r);
  const uint32_t ndim = r.u32("a tensor's dimension count");
  if (ndim > kMaxDims)
    r.fail(fmt::format("a tensor has {} dimensions, more than {}", ndim, kMaxDims));
  t.type.sizes.resize(ndim);
  for (uint32_t d = 0; d < ndim; ++d) {
    const int64_t s = r.pod<int64_t>("a tensor's sizes");
    if (s < 0) r.fail(fmt::format("a tensor has a negative size {}", s));
    if (s != 0 && t.numel > std::numeric_limits<int64_t>::max() / s) {
      r.fail("a tensor's element count overflows int64");
    }
    t.numel *= s;
    t.type.sizes[d] = s;
  }
  return t;
}

Tensor read_constant_data(Reader& r, const ReadType& t, size_t index) {
  const uint64_t nbytes = r.pod<uint64_t>("a constant's byte count");
  if (t.type.device.is_meta()) {
    if (nbytes != 0)
      r.fail(fmt::format("meta constant (value {}) has {} bytes of data", index, nbytes));
    return make_tensor(t.type.sizes, t.type.dtype, t.type.device);
  }
  if (!t.type.device.is_cpu()) {
    r.fail(fmt::format("constant (value {}) is on device {}; files hold cpu tensors", index,
                       t.type.device.str()));
  }
  const uint64_t want = static_cast<uint64_t>(t.numel) * element_size(t.type.dtype);
  if (nbytes != want) {
    r.fail(fmt::format("constant (value {}) of type {}{} has {} bytes of data, not {}", index,
                       to_string(t.type.dtype), to_string(IntArrayRef(t.type.sizes)), nbytes,
                       want));
  }
  const char* data = r.bytes(nbytes, "a constant's data");
  Tensor c = make_tensor(t.type.sizes, t.type.dtype, t.type.device);
  if (nbytes) std::memcpy(c.raw_data(), data, nbytes);
  if (t.type.dtype == kBool) {  // a bool is 0 or 1: other bytes would be undefined behaviour
    auto* b = static_cast<uint8_t*>(c.raw_data());
    for (uint64_t i = 0; i < nbytes; ++i) {
      if (b[i] > 1) r.fail(fmt::format("bool constant (value {}) holds byte {}", index, b[i]));
    }
  }
  return c;
}

}  // namespace

// ---- the format ------------------------------------------------------------------------

namespace detail {

uint64_t graph_file_checksum(std::string_view payload) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : payload) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string graph_to_bytes(const Graph& g) {
  g.check();
  tracer::NoTracerDispatchMode not_traced;  // contiguous() below is not part of any trace
  // Values in file order: inputs, constants, then node outputs in node order.
  std::vector<const Value*> order;
  std::unordered_map<const Value*, uint32_t> index;
  auto number = [&](const Value* v) {
    if (index.emplace(v, static_cast<uint32_t>(order.size())).second) order.push_back(v);
  };
  for (const Value* v : g.inputs()) number(v);
  for (const Value* v : g.values()) {
    if (v->kind() == Value::Kind::Constant) number(v);
  }
  // Ops in order of first use.
  std::vector<const Node*> first_of_op;
  std::unordered_map<std::string, uint32_t> op_index;
  for (const Node* n : g.nodes()) {
    for (const NodeOutput& o : n->outputs()) {
      if (o.value) number(o.value);
      for (const Value* v : o.list) number(v);
    }
    if (op_index.emplace(n->schema().full_name(), static_cast<uint32_t>(first_of_op.size()))
            .second) {
      first_of_op.push_back(n);
    }
  }

  Writer w;
  w.u32(first_of_op.size());
  for (const Node* n : first_of_op) {
    w.str(n->schema().full_name());
    w.str(n->schema().to_string());
  }
  w.u32(order.size());
  for (const Value* v : order) {
    const ValueRecord kind = v->kind() == Value::Kind::Input      ? ValueRecord::Input
                             : v->kind() == Value::Kind::Constant ? ValueRecord::Constant
                                                                  : ValueRecord::Output;
    w.u8(static_cast<uint8_t>(kind));
    write_type(w, *v);
    if (kind == ValueRecord::Constant) write_constant_data(w, *v);
  }
  w.u32(g.inputs().size());
  for (const Value* v : g.inputs()) w.u32(index.at(v));
  w.u32(g.nodes().size());
  for (const Node* n : g.nodes()) {
    w.u32(op_index.at(n->schema().full_name()));
    w.u32(n->args().size());
    for (const NodeArg& a : n->args()) {
      switch (a.kind) {
        case NodeArg::Kind::Value:
          w.u8(static_cast<uint8_t>(ArgRecord::Value));
          w.u32(index.at(a.value));
          break;
        case NodeArg::Kind::ValueList:
          w.u8(static_cast<uint8_t>(ArgRecord::ValueList));
          w.u32(a.list.size());
          for (const Value* v : a.list) w.u32(index.at(v));
          break;
        case NodeArg::Kind::Constant:
          w.u8(static_cast<uint8_t>(ArgRecord::Constant));
          write_ivalue(w, a.constant);
          break;
      }
    }
    w.u32(n->outputs().size());
    for (const NodeOutput& o : n->outputs()) {
      w.u8(o.is_list ? 1 : 0);
      if (!o.is_list) {
        w.u32(index.at(o.value));
        continue;
      }
      w.u32(o.list.size());
      for (const Value* v : o.list) w.u32(index.at(v));
    }
  }
  w.u32(g.outputs().size());
  for (const Value* v : g.outputs()) w.u32(index.at(v));
  const std::string payload = w.take();

  Writer file;
  file.bytes(kMagic, sizeof(kMagic));
  file.pod<uint32_t>(kGraphFileVersion);
  file.pod<uint32_t>(0);  // flags
  file.pod<uint64_t>(payload.size());
  file.pod<uint64_t>(graph_file_checksum(payload));
  file.bytes(payload.data(), payload.size());
  return file.take();
}

Graph graph_from_bytes(std::string_view bytes, std::string_view what, bool verify_checksum) {
  auto fail = [&](const std::string& message) -> void {
    throw GraphFileError(fmt::format("Graph::load: {}: {}", what, message));
  };
  if (bytes.size() < kHeaderBytes) {
    fail(fmt::format("not a switchyard graph file: {} bytes, shorter than the {}-byte header",
                     bytes.size(), kHeaderBytes));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    fail("not a switchyard graph file (its first 8 bytes are not \"SYGRAPH\\0\")");
  }
  uint32_t version, flags;
  uint64_t payload_bytes, checksum;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&flags, bytes.data() + 12, 4);
  std::memcpy(&payload_bytes, bytes.data() + 16, 8);
  std::memcpy(&checksum, bytes.data() + 24, 8);
  if (version > kGraphFileVersion) {
    fail(
        fmt::format("format version {} is newer than this library reads (up to {}); load it "
                    "with a newer switchyard, or save the graph again with this one",
                    version, kGraphFileVersion));
  }
  if (version == 0) fail("format version 0 does not exist: the header is corrupted");
  if (flags != 0) {
    fail(fmt::format("header flags {:#x} name features this version does not know", flags));
  }
  if (payload_bytes != bytes.size() - kHeaderBytes) {
    fail(
        fmt::format("the file is truncated or has trailing bytes: its header says {} payload "
                    "bytes, the file has {}",
                    payload_bytes, bytes.size() - kHeaderBytes));
  }
  const std::string_view payload = bytes.substr(kHeaderBytes);
  if (verify_checksum && graph_file_checksum(payload) != checksum) {
    fail("the file is corrupted: its payload does not match the checksum in its header");
  }

  Reader r(payload, what);
  Dispatcher& dispatcher = Dispatcher::singleton();
  struct Op {
    OperatorHandle handle;
    std::shared_ptr<const FunctionSchema> schema;
  };
  std::vector<std::optional<Op>> ops(r.count("the op count", 8));
  std::vector<std::string> missing, different;
  for (auto& op : ops) {
    const std::string name(r.str("an op's name"));
    const std::string_view text = r.str("an op's schema");
    FunctionSchema saved;
    try {
      saved = parse_schema(text);
    } catch (const SchemaError& e) {
      r.fail(fmt::format("the schema of {} does not parse: {}", name, e.what()));
    }
    if (saved.full_name() != name) {
      r.fail(fmt::format("op {} is listed with the schema of {}", name, saved.full_name()));
    }
    std::optional<OperatorHandle> handle = dispatcher.find_op_or_null(name);
    if (!handle) {
      missing.push_back(name);
      continue;
    }
    FunctionSchema now = handle->schema();
    if (!(now == saved)) {
      different.push_back(fmt::format("{} is `{}` here, `{}` in the file", name, now.to_string(),
                                      saved.to_string()));
      continue;
    }
    op = Op{*handle, std::make_shared<const FunctionSchema>(std::move(now))};
  }
  if (!missing.empty()) {
    fail(
        fmt::format("the graph calls ops this process does not have: {}. Load the libraries "
                    "that define them before loading the graph",
                    fmt::join(missing, ", ")));
  }
  if (!different.empty()) {
    fail(
        fmt::format("the graph calls ops whose schema differs from the one it was saved "
                    "with: {}. Save the graph again with the ops as they are now",
                    fmt::join(different, "; ")));
  }

  Graph g;
  struct Slot {
    ValueRecord kind;
    ValueType type;
    Value* value = nullptr;  // once defined
  };
  std::vector<Slot> slots(r.count("the value count", 2));
  for (size_t i = 0; i < slots.size(); ++i) {
    const uint8_t kind = r.u8("a value's kind");
    if (kind > static_cast<uint8_t>(ValueRecord::Constant)) {
      r.fail(fmt::format("value {} has kind {}, not 0 (input), 1 (node output) or 2 (constant)", i,
                         kind));
    }
    slots[i].kind = static_cast<ValueRecord>(kind);
    ReadType t = read_type(r);
    if (slots[i].kind != ValueRecord::Output && !t.type.is_tensor) {
      r.fail(fmt::format("value {} is an input or a constant of type {}; those are tensors", i,
                         t.type.non_tensor));
    }
    if (slots[i].kind == ValueRecord::Constant) {
      slots[i].value = g.add_constant(read_constant_data(r, t, i));
    }
    slots[i].type = std::move(t.type);
  }
  auto value_at = [&](uint32_t i, const char* what_for) -> Slot& {
    if (i >= slots.size()) {
      r.fail(fmt::format("{} refers to value {}; there are {}", what_for, i, slots.size()));
    }
    return slots[i];
  };
  auto defined = [&](uint32_t i, const char* what_for) {
    Slot& s = value_at(i, what_for);
    if (s.value == nullptr) {
      r.fail(fmt::format("{} uses value {} before anything defines it", what_for, i));
    }
    return s.value;
  };

  const uint32_t num_inputs = r.count("the input count", 4);
  for (uint32_t k = 0; k < num_inputs; ++k) {
    Slot& s = value_at(r.u32("an input"), "an input");
    if (s.kind != ValueRecord::Input || s.value != nullptr) {
      r.fail(fmt::format("input {} is not an input value, or is listed twice", k));
    }
    s.value = g.add_input(s.type);
  }

  const uint32_t num_nodes = r.count("the node count", 8);
  for (uint32_t k = 0; k < num_nodes; ++k) {
    const uint32_t op_i = r.u32("a node's op");
    if (op_i >= ops.size())
      r.fail(fmt::format("node {} calls op {}; there are {}", k, op_i, ops.size()));
    const Op& op = *ops[op_i];
    const auto& params = op.schema->arguments();
    std::vector<NodeArg> args(r.count("a node's argument count", 2));
    if (args.size() != params.size()) {
      r.fail(fmt::format("node {} passes {} arguments to {}, whose schema takes {}", k, args.size(),
                         op.schema->full_name(), params.size()));
    }
    for (size_t a = 0; a < args.size(); ++a) {
      const uint8_t kind = r.u8("an argument's kind");
      const SchemaType& type = params[a].type;
      switch (static_cast<ArgRecord>(kind)) {
        case ArgRecord::Value:
          args[a].kind = NodeArg::Kind::Value;
          args[a].value = defined(r.u32("an argument"), "a node's argument");
          if (!type.contains_tensor() || type.kind() == SchemaType::Kind::List) {
            r.fail(fmt::format("node {} passes a tensor as argument {} ({}) of {}", k,
                               params[a].name, type.to_string(), op.schema->full_name()));
          }
          break;
        case ArgRecord::ValueList: {
          args[a].kind = NodeArg::Kind::ValueList;
          // Tensor[], or Tensor?[] whose items the trace recorded were all tensors.
          if (type.kind() != SchemaType::Kind::List ||
              !(type.elem().is_tensor() || (type.elem().kind() == SchemaType::Kind::Optional &&
                                            type.elem().elem().is_tensor()))) {
            r.fail(fmt::format("node {} passes a tensor list as argument {} ({}) of {}", k,
                               params[a].name, type.to_string(), op.schema->full_name()));
          }
          const uint32_t n = r.count("a tensor list's length", 4);
          for (uint32_t j = 0; j < n; ++j) {
            args[a].list.push_back(defined(r.u32("a tensor list's item"), "a node's argument"));
          }
          break;
        }
        case ArgRecord::Constant:
          args[a].constant = read_ivalue(r);
          if (!type.accepts(args[a].constant)) {
            r.fail(
                fmt::format("node {} passes a constant of the wrong type as argument {} ({}) "
                            "of {}",
                            k, params[a].name, type.to_string(), op.schema->full_name()));
          }
          break;
        default: r.fail(fmt::format("node {} has an argument of kind {}", k, kind));
      }
    }
    const auto& returns = op.schema->returns();
    const uint32_t num_outs = r.count("a node's output count", 5);
    if (num_outs != returns.size()) {
      r.fail(fmt::format("node {} has {} outputs; {} returns {}", k, num_outs,
                         op.schema->full_name(), returns.size()));
    }
    std::vector<OutputType> outs(num_outs);
    std::vector<std::vector<uint32_t>> out_slots(num_outs);
    for (uint32_t o = 0; o < num_outs; ++o) {
      const uint8_t is_list = r.u8("an output's kind");
      const SchemaType& type = returns[o].type;
      const bool list_return = type.kind() == SchemaType::Kind::List && type.elem().is_tensor();
      if (is_list > 1 || (is_list == 1) != list_return) {
        r.fail(fmt::format("node {}'s output {} does not match the return type {} of {}", k, o,
                           type.to_string(), op.schema->full_name()));
      }
      outs[o].is_list = is_list == 1;
      const uint32_t n = is_list ? r.count("an output list's length", 4) : 1;
      for (uint32_t j = 0; j < n; ++j) {
        const uint32_t vi = r.u32("an output");
        Slot& s = value_at(vi, "a node's output");
        if (s.kind != ValueRecord::Output || s.value != nullptr) {
          r.fail(
              fmt::format("node {}'s output is value {}, which is not a node output or is "
                          "defined twice",
                          k, vi));
        }
        if (s.type.is_tensor != (is_list == 1 || type.is_tensor())) {
          r.fail(fmt::format("node {}'s output {} has a type that {} does not return", k, o,
                             op.schema->full_name()));
        }
        outs[o].values.push_back(s.type);
        out_slots[o].push_back(vi);
      }
    }
    Node* node = g.add_node(op.handle, op.schema, args, outs);
    for (uint32_t o = 0; o < num_outs; ++o) {
      const NodeOutput& out = node->outputs()[o];
      for (size_t j = 0; j < out_slots[o].size(); ++j) {
        slots[out_slots[o][j]].value = out.is_list ? out.list[j] : out.value;
      }
    }
  }

  const uint32_t num_outputs = r.count("the output count", 4);
  for (uint32_t k = 0; k < num_outputs; ++k) {
    Value* v = defined(r.u32("an output"), "a graph output");
    if (!v->is_tensor()) r.fail(fmt::format("graph output {} is not a tensor", k));
    g.add_output(v);
  }
  if (r.left() != 0) r.fail(fmt::format("{} bytes follow the graph", r.left()));
  try {
    g.check();
  } catch (const ValueError& e) {
    fail(fmt::format("the graph does not check: {}", e.what()));
  }
  return g;
}

}  // namespace detail

// ---- Graph::save / Graph::load ------------------------------------------------------------

void Graph::save(const std::string& path) const {
  const std::string bytes = detail::graph_to_bytes(*this);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  SY_CHECK(f.good(), GraphFileError, "Graph::save: cannot open '{}' for writing: {}", path,
           std::strerror(errno));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  SY_CHECK(f.good(), GraphFileError, "Graph::save: writing '{}' failed: {}", path,
           std::strerror(errno));
}

Graph Graph::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  SY_CHECK(f.good(), GraphFileError, "Graph::load: cannot open '{}': {}", path,
           std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  SY_CHECK(!f.bad(), GraphFileError, "Graph::load: reading '{}' failed: {}", path,
           std::strerror(errno));
  return detail::graph_from_bytes(bytes, path);
}

}  // namespace sy
