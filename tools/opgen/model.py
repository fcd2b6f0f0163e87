"""The op table: YAML files read, checked, and turned into Op records.

docs/op-table.md describes the format. Everything the emitters need is computed here
(tags, C++ signatures, which overloads a base name groups), so the emitters only print.
"""

import re
from dataclasses import dataclass, field

import yaml

from schema import SchemaError, parse_schema, parse_signature

SECTIONS = ["creation", "elementwise", "reduction", "linalg", "shape", "indexing",
            "advanced_indexing", "sorting"]
SECTION_TITLES = {
    "creation": "Creation", "elementwise": "Elementwise", "reduction": "Reductions",
    "linalg": "Linear algebra", "shape": "Views and shape", "indexing": "Joining and indexing",
    "advanced_indexing": "Advanced indexing and scatter", "sorting": "Sorting and scans",
}
# Mirrors enum class Tag in switchyard/dispatch/op_tag.h.
TAGS = ["pointwise", "reduction", "view", "inplace", "out", "random", "nondeterministic",
        "data_dependent_output", "dynamic_output_shape"]
INFERRED_TAGS = {"inplace", "out", "view"}
KEYS = ["CPU", "CUDA", "Meta", "PrivateUse1", "CompositeExplicitAutograd",
        "CompositeImplicitAutograd", "Autograd"]
COMPOSITE_KEYS = {"CompositeExplicitAutograd", "CompositeImplicitAutograd"}
FIELDS = {"schema", "kernels", "tags", "cpp", "method", "python", "doc", "backward", "forward",
          "batching", "decomposition", "not_differentiable"}
FACTORY_ARGS = ("dtype", "device", "requires_grad")
OPTIONS = "options"


class TableError(Exception):
    pass


@dataclass
class Param:
    """One C++ parameter: a schema argument (maybe narrowed from T?) or the options."""
    name: str
    arg: object = None        # schema.Argument, None for TensorOptions
    narrowed: bool = False    # T? written as T
    default: str = None       # schema-language literal, None for none


@dataclass
class CppSig:
    name: str
    params: list
    is_method: bool = False

    def param(self, name):
        return next((p for p in self.params if p.name == name), None)


@dataclass
class Op:
    path: str                 # the YAML file, relative to the source tree
    line: int
    family: str               # the file's stem: kernels in switchyard/ops/<family>.cpp
    section: str
    schema: object
    kernels: list             # [(key, C++ expression)]
    tags: list
    cpp: list                 # [CppSig]
    methods: list             # [CppSig]
    python: dict
    doc: str
    backward: dict = None
    forward: object = None
    batching: object = None
    decomposition: object = None
    not_differentiable: str = None  # why autograd has nothing to compute (docs/autograd.md)
    saved: list = field(default_factory=list)

    @property
    def name(self):
        return self.schema.full_name

    @property
    def qualified(self):
        return "sy::" + self.name

    @property
    def base(self):
        return self.schema.name

    @property
    def group(self):
        """In-place and functional forms share a row in the docs and a Python packet group."""
        return self.base[:-1] if self.base.endswith("_") and len(self.base) > 1 else self.base

    @property
    def is_inplace(self):
        return "inplace" in self.tags

    @property
    def is_out(self):
        return "out" in self.tags

    @property
    def where(self):
        return f"{self.path}:{self.line}"


# ---- YAML with line numbers ------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    pass


def _mapping_with_line(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _strip_lines(value):
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


# ---- checks ----------------------------------------------------------------------------

def _fail(where, message):
    raise TableError(f"{where}: {message}")


def _infer_tags(schema):
    tags = set()
    args = schema.arguments
    if (schema.name.endswith("_") and args and args[0].name == "self" and args[0].is_write
            and len(schema.returns) == 1 and schema.returns[0].alias == args[0].alias):
        tags.add("inplace")
    if any(a.kwarg_only and a.is_write for a in args):
        tags.add("out")
    read_sets = {a.alias for a in args if a.alias and not a.is_write}
    if any(r.alias in read_sets and not r.is_write for r in schema.returns):
        tags.add("view")
    return tags


def _check_tags(where, schema, listed):
    if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
        _fail(where, "tags must be a list of names")
    for t in listed:
        if t not in TAGS:
            _fail(where, f"unknown tag {t!r}; the tags are {', '.join(TAGS)}")
    inferred = _infer_tags(schema)
    for t in set(listed) & INFERRED_TAGS:
        if t not in inferred:
            _fail(where, f"tag {t!r} contradicts the schema (it is inferred from the schema: "
                         "in-place = 'name_' writing and returning self, out = keyword-only "
                         "Tensor(a!) arguments, view = a Tensor(a) return of an input)")
    return [t for t in TAGS if t in set(listed) | inferred]


def _parse_kernels(where, raw):
    if not isinstance(raw, dict) or not raw:
        _fail(where, "kernels must map dispatch keys to kernel functions: {CPU Meta: add_k}")
    out = []
    for keys, fn in raw.items():
        if not isinstance(fn, str) or not fn.strip():
            _fail(where, f"the kernel for {keys} must be a C++ function name")
        for key in str(keys).replace(",", " ").split():
            if key not in KEYS:
                _fail(where, f"unknown dispatch key {key!r}; kernels go at {', '.join(KEYS)}")
            if any(k == key for k, _ in out):
                _fail(where, f"two kernels at {key}")
            out.append((key, fn.strip()))
    return out


def _factory_args(schema):
    """The schema's dtype/device/requires_grad keyword arguments, when it has all three."""
    found = [schema.argument(n) for n in FACTORY_ARGS]
    if not all(a is not None and a.kwarg_only for a in found):
        return None
    dtype, device, requires_grad = found
    if (str(dtype.type), str(device.type), str(requires_grad.type)) != (
            "ScalarType?", "Device?", "bool"):
        return None
    return found


def _derived_signature(schema, is_out):
    params, gathered = [], False
    factory = _factory_args(schema)
    outs = [a for a in schema.arguments if a.kwarg_only and a.is_write] if is_out else []
    for a in outs:
        params.append(Param(a.name, a, False, a.default))
    for a in schema.arguments:
        if a in outs:
            continue
        if factory and a.name in FACTORY_ARGS:
            if not gathered:
                params.append(Param(OPTIONS, None, False, "{}"))
                gathered = True
            continue
        params.append(Param(a.name, a, False, a.default))
    name = schema.name + ("_out" if is_out else "")
    return CppSig(name, params)


def _explicit_signature(where, schema, text, is_method):
    try:
        sig = parse_signature(text)
    except SchemaError as e:
        _fail(where, f"signature {text!r}: {e}")
    if sig.overload:
        _fail(where, f"signature {text!r}: a C++ function has no overload name")
    params, factory = [], _factory_args(schema)
    for a in sig.arguments:
        if a.type.base == "TensorOptions":
            if not factory or a.name != OPTIONS:
                _fail(where, f"signature {text!r}: 'TensorOptions options' stands for the "
                             "keyword arguments dtype, device and requires_grad, which the "
                             "schema lacks")
            params.append(Param(OPTIONS, None, False, a.default))
            continue
        arg = schema.argument(a.name)
        if arg is None:
            _fail(where, f"signature {text!r}: {a.name!r} is not an argument of the schema")
        if factory and a.name in FACTORY_ARGS:
            _fail(where, f"signature {text!r}: pass {a.name} through 'TensorOptions options'")
        same = str(a.type) == str(arg.type)
        narrowed = arg.type.optional and str(a.type) == str(arg.type.without_optional())
        if not (same or narrowed):
            _fail(where, f"signature {text!r}: {a.name} is {arg.type} in the schema; write it "
                         f"as {arg.type}" + (f" or {arg.type.without_optional()}"
                                             if arg.type.optional else ""))
        params.append(Param(a.name, arg, narrowed and not same, a.default))
    named = {p.name for p in params}
    for arg in schema.arguments:
        covered = arg.name in named or (factory and arg.name in FACTORY_ARGS and OPTIONS in named)
        if not covered and not arg.has_default:
            _fail(where, f"signature {text!r} leaves out {arg.name}, which has no default")
    if is_method and "self" not in named:
        _fail(where, f"method signature {text!r} needs 'Tensor self'")
    return CppSig(sig.name, params, is_method)


def _check_python(where, raw):
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"method", "operators"}:
        _fail(where, "python takes {method: name | false | custom, operators: [dunders]}")
    method = raw.get("method")
    if method is not None and method is not False and not isinstance(method, str):
        _fail(where, "python.method is a name, false or custom")
    ops = raw.get("operators", [])
    if not isinstance(ops, list) or not all(
            isinstance(o, str) and re.fullmatch(r"__\w+__", o) for o in ops):
        _fail(where, "python.operators is a list of dunder names such as __add__")
    return {"method": method, "operators": ops}


# ---- reserved fields -------------------------------------------------------------------

_IDENT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)")


def _mentions(formula, names):
    return [n for n in names if n in set(_IDENT.findall(formula))]


def _check_backward(where, op, raw):
    if raw is None:
        return None, []
    if not isinstance(raw, dict) or not raw:
        _fail(where, "backward maps each differentiable input to a formula: {self: grad * other}")
    if op.is_out:
        _fail(where, "out= overloads take no formulas (autograd refuses them, as PyTorch does)")
    schema = op.schema
    tensor_inputs = [a.name for a in schema.arguments if a.type.is_tensor_like and not a.is_write]
    covered = set()
    for key, formula in raw.items():
        names = [n.strip() for n in str(key).split(",")]
        for n in names:
            arg = schema.argument(n)
            if arg is None or not arg.type.is_tensor_like:
                _fail(where, f"backward: {n!r} is not a Tensor input of {schema.full_name}")
            if n in covered:
                _fail(where, f"backward: {n!r} has two formulas")
            covered.add(n)
        if not isinstance(formula, str) or not formula.strip():
            _fail(where, f"backward: the formula for {key} must be a C++ expression "
                         "or non_differentiable")
    missing = [n for n in tensor_inputs if n not in covered]
    if missing:
        _fail(where, f"backward: no formula for {', '.join(missing)}; write one or "
                     "'non_differentiable'")
    returns = [r.name for r in schema.returns if r.name] or ["result"]
    arg_names = [a.name for a in schema.arguments]
    saved = []
    for formula in raw.values():
        if formula.strip() == "non_differentiable":
            continue
        for n in _mentions(formula, arg_names + returns):
            if n not in saved:
                saved.append(n)
    return dict(raw), saved


def _check_forward(where, op, raw):
    if raw is None:
        return None
    if op.is_out:
        _fail(where, "out= overloads take no formulas (autograd refuses them, as PyTorch does)")
    returns = [r.name for r in op.schema.returns if r.name]
    if isinstance(raw, str) and raw.strip():
        return raw
    if isinstance(raw, dict) and returns and set(raw) <= set(returns) and all(
            isinstance(v, str) and v.strip() for v in raw.values()):
        return dict(raw)
    _fail(where, "forward is one formula (or auto_element_wise / auto_linear), or for ops "
                 "with named returns a map from return name to formula")


# The rule kinds of switchyard/transforms/batching.cpp a table entry may name (the
# generated table names their C++ functions, `<kind>_rule`), and which take argument
# names: the dims the rule shifts past the batch dimension.
BATCHING_KINDS = {"pointwise": False, "dims": True, "indexed_dims": True,
                  "full_reduction": False, "unsqueeze": False, "squeeze_all": False,
                  "permute": False, "sized_view": False, "mm": False, "bmm": False,
                  "dot": False, "addmm": False, "cat": False, "masked_fill": False}
_DIM_TYPES = {"int", "int[]", "int?", "int[]?"}


@dataclass
class Batching:
    """An op's vmap rule: a kind of batching.cpp with its dim arguments, or a function."""
    kind: str = None
    dims: list = field(default_factory=list)  # argument names
    fn: str = None
    inferred: bool = False    # from the tags, not written in the table


def _check_batching(where, schema, raw):
    if raw is None:
        return None
    if isinstance(raw, dict) and set(raw) == {"fn"} and isinstance(raw["fn"], str) and \
            re.fullmatch(r"[A-Za-z_][\w:]*", raw["fn"].strip()):
        return Batching(fn=raw["fn"].strip())
    m = re.fullmatch(r"(\w+)(?:\((.*)\))?", raw.strip()) if isinstance(raw, str) else None
    if m is None:
        _fail(where, "batching is a rule kind with optional arguments (pointwise, "
                     "dims(dim)) or {fn: <C++ function>}")
    kind, args = m.group(1), m.group(2)
    if kind not in BATCHING_KINDS:
        _fail(where, f"unknown batching rule kind {kind!r}; the kinds are "
                     f"{', '.join(sorted(BATCHING_KINDS))} (switchyard/transforms/batching.cpp)")
    dims = [a.strip() for a in args.split(",")] if args is not None else []
    if BATCHING_KINDS[kind] and not dims:
        _fail(where, f"batching: {kind} names the dim arguments it shifts: {kind}(dim)")
    if not BATCHING_KINDS[kind] and dims:
        _fail(where, f"batching: {kind} takes no arguments")
    for name in dims:
        arg = schema.argument(name)
        if arg is None or str(arg.type).replace("[1]", "[]") not in _DIM_TYPES:
            _fail(where, f"batching: {kind}({', '.join(dims)}): {name} is not an int or int[] "
                         f"argument of {schema.full_name}")
    return Batching(kind=kind, dims=dims)


def _infer_batching(op):
    """A reduction with a backend kernel and a `dim` argument gets the dims rule."""
    dim = op.schema.argument("dim")
    composite_only = {k for k, _ in op.kernels} == {"CompositeImplicitAutograd"}
    if ("reduction" in op.tags and not op.is_out and not composite_only and dim is not None
            and str(dim.type).replace("[1]", "[]") in _DIM_TYPES):
        return Batching(kind="dims", dims=["dim"], inferred=True)
    return None


def _check_decomposition(where, raw):
    if raw is None:
        return None
    if isinstance(raw, str) and raw.strip():
        return raw
    if isinstance(raw, dict) and set(raw) == {"fn"} and isinstance(raw["fn"], str):
        return raw
    _fail(where, "decomposition is an expression in terms of ops, or {fn: <C++ function>}")


def _check_not_differentiable(where, op, raw):
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        _fail(where, "not_differentiable is the reason, in a few words (the result is bool)")
    if op.backward or op.forward or op.decomposition:
        _fail(where, "an op with not_differentiable takes no backward, forward or decomposition")
    return " ".join(raw.split())


# ---- loading ---------------------------------------------------------------------------

def _load_op(path, family, section, raw):
    line = raw.get("__line__", 0)
    where = f"{path}:{line}"
    raw = _strip_lines(raw)
    unknown = set(raw) - FIELDS
    if unknown:
        _fail(where, f"unknown field(s) {', '.join(sorted(unknown))}; the fields are "
                     f"{', '.join(sorted(FIELDS))}")
    if "schema" not in raw:
        _fail(where, "an op needs a schema")
    try:
        schema = parse_schema(raw["schema"])
    except SchemaError as e:
        _fail(where, str(e))
    where = f"{path}:{line} ({schema.full_name})"
    if "kernels" not in raw:
        _fail(where, "an op needs kernels (a composite counts: CompositeImplicitAutograd: fn)")
    kernels = _parse_kernels(where, raw["kernels"])
    tags = _check_tags(where, schema, raw.get("tags", []))
    op = Op(path, line, family, section, schema, kernels, tags, [], [], {}, "")

    doc = raw.get("doc")
    if doc is None and (op.is_inplace or op.is_out):
        doc = f"The {'in-place' if op.is_inplace else 'out='} form of {op.group}."
    if not isinstance(doc, str) or not doc.strip():
        _fail(where, "an op needs a doc: one or two sentences on what it computes")
    op.doc = " ".join(doc.split())

    cpp = raw.get("cpp", True)
    if cpp is True:
        op.cpp = [_derived_signature(schema, op.is_out)]
    elif cpp is False:
        op.cpp = []
    elif isinstance(cpp, list) and all(isinstance(s, str) for s in cpp):
        op.cpp = [_explicit_signature(where, schema, s, False) for s in cpp]
    else:
        _fail(where, "cpp is true, false or a list of signatures")

    method = raw.get("method", False)
    has_self = schema.argument("self") is not None and str(
        schema.argument("self").type.without_optional()) == "Tensor"
    if method is True:
        if not has_self:
            _fail(where, "method: true needs a 'Tensor self' argument")
        if not op.cpp:
            _fail(where, "method: true takes the cpp signatures, and cpp is false; list the "
                         "method signatures instead")
        op.methods = [CppSig(s.name, s.params, True) for s in op.cpp]
    elif method is False:
        op.methods = []
    elif isinstance(method, list) and all(isinstance(s, str) for s in method):
        op.methods = [_explicit_signature(where, schema, s, True) for s in method]
    else:
        _fail(where, "method is true, false or a list of signatures")

    op.python = _check_python(where, raw.get("python"))
    op.backward, op.saved = _check_backward(where, op, raw.get("backward"))
    op.forward = _check_forward(where, op, raw.get("forward"))
    op.batching = _check_batching(where, schema, raw.get("batching")) or _infer_batching(op)
    op.decomposition = _check_decomposition(where, raw.get("decomposition"))
    op.not_differentiable = _check_not_differentiable(where, op, raw.get("not_differentiable"))
    return op


def load_tables(paths, source_dir):
    """Every op of the YAML files at `paths` (relative to `source_dir`), in file order."""
    ops = []
    for path in paths:
        with open(f"{source_dir}/{path}", encoding="utf-8") as f:
            try:
                data = yaml.load(f, Loader=_Loader)
            except yaml.YAMLError as e:
                _fail(path, f"not valid YAML: {e}")
        if not isinstance(data, dict) or set(_strip_lines(data)) != {"section", "ops"}:
            _fail(path, "a table file holds 'section: <name>' and 'ops: [...]'")
        if data["section"] not in SECTIONS:
            _fail(path, f"unknown section {data['section']!r}; the sections are "
                        f"{', '.join(SECTIONS)}")
        if not path.endswith(".yaml"):
            _fail(path, "table files end in .yaml")
        family = path.rsplit("/", 1)[-1][: -len(".yaml")]
        for raw in data["ops"] or []:
            ops.append(_load_op(path, family, data["section"], raw))
    _check_whole(ops)
    return ops


def _functional_twin(op, ops):
    """The functional overload of in-place op `op` (same base without '_', same arguments)."""
    want = [(a.name, str(a.type)) for a in op.schema.arguments]
    for other in ops:
        if (other.base == op.base[:-1] and not other.is_inplace and not other.is_out and
                [(a.name, str(a.type)) for a in other.schema.arguments] == want):
            return other
    return None


def _check_whole(ops):
    seen = {}
    for op in ops:
        if op.name in seen:
            _fail(op.where, f"{op.name} is declared twice (also at {seen[op.name].where})")
        seen[op.name] = op
    # An in-place overload takes its functional overload's formulas; only one without a
    # functional twin with a kernel of its own (copy_, fill_; masked_fill_, whose twin is a
    # composite calling it) has its own. In either, `self` is self before the op (the
    # Autograd kernel saves a clone when a gradient reads it).
    for op in ops:
        if not op.is_inplace or not (op.backward or op.forward or op.not_differentiable):
            continue
        twin = _functional_twin(op, ops)
        if twin is not None and {k for k, _ in twin.kernels} != {"CompositeImplicitAutograd"}:
            _fail(op.where, f"in-place overloads take their functional overload's formulas; "
                            f"write them on {twin.name}")
    # Per base name, the python settings are given once.
    by_group = {}
    for op in ops:
        if op.python:
            if op.base in by_group:
                _fail(op.where, f"python settings for {op.base} are given twice (also at "
                                f"{by_group[op.base].where})")
            by_group[op.base] = op
    # Two functions (or methods) with one name and the same parameter types would clash.
    from cpp import param_type  # noqa: E402 (cpp imports this module)
    for attr, what in (("cpp", "free function"), ("methods", "method")):
        sigs = {}
        for op in ops:
            for sig in getattr(op, attr):
                params = [p for p in sig.params if not (sig.is_method and p.name == "self")]
                key = (sig.name, tuple(param_type(p) for p in params))
                if key in sigs:
                    _fail(op.where, f"the C++ {what} {sig.name}({', '.join(key[1])}) is declared "
                                    f"twice (also by {sigs[key].name})")
                sigs[key] = op
