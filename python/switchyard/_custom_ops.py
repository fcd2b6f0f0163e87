"""The custom-op API of sy.library: custom_op, infer_schema, register_fake, opcheck.

    @sy.library.custom_op("mylib::scale", mutates_args=())
    def scale(x: sy.Tensor, factor: float) -> sy.Tensor:
        return x * factor

    @scale.register_fake
    def _(x, factor):
        return sy.empty_like(x)

    sy.library.opcheck(scale, (sy.randn(3), 2.0))

Built on ``Library``: each op and each of its kernels lives in a library of its
own, so registering a kernel again replaces the old one without a warning. See
docs/python.md, "Custom ops".
"""

import collections.abc
import numbers
import os
import sys
import types
import typing

from switchyard import _C

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

# Device type names of register_kernel / impl, and the keys they stand for.
_DEVICE_KEYS = {"cpu": "CPU", "cuda": "CUDA", "meta": "Meta", "privateuse1": "PrivateUse1"}
# Every runtime autograd key: what an op's autograd kernel runs below.
_AUTOGRAD_KEYS = ["AutogradOther", "AutogradCPU", "AutogradCUDA", "AutogradMeta",
                  "AutogradPrivateUse1"]
# What device_types=None covers: every backend but Meta, which belongs to the fake kernel.
_DEFAULT_KEY = "CompositeExplicitAutograd"


class CustomOpError(_C.Error, ValueError):
    """A custom op that cannot be defined as written: a type hint without a schema
    type, a mutated argument that is not a tensor, a bad name. Also a ValueError,
    as PyTorch raises one there."""


class OpCheckError(_C.Error, AssertionError):
    """``opcheck`` found the op's registrations at odds with what its kernels do."""


def _user_site():
    """(file, line) of the innermost frame outside this package: the user's line."""
    f = sys._getframe(1)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep):
        f = f.f_back
    if f is None:
        return "<unknown>", 0
    return f.f_code.co_filename, f.f_lineno


def _split_qualname(qualname, what):
    if not isinstance(qualname, str) or qualname.count("::") != 1:
        raise CustomOpError(f'{what}: the name must look like "namespace::name", got {qualname!r}')
    ns, name = qualname.split("::")
    if not ns.isidentifier() or not name.isidentifier():
        raise CustomOpError(f'{what}: the name must look like "namespace::name" with both parts '
                            f"identifiers, got {qualname!r}")
    if "." in name:
        raise CustomOpError(f"{what}: {qualname!r} names an overload; custom ops have one "
                            "overload, named by the op's name alone")
    return ns, name


def _key_of(device_type, what):
    """"cpu" -> "CPU"; a dispatch key name passes unchanged."""
    if not isinstance(device_type, str):
        raise CustomOpError(f"{what}: a device type is a str such as 'cpu', got {device_type!r}")
    if device_type in _DEVICE_KEYS:
        return _DEVICE_KEYS[device_type]
    known = set(_DEVICE_KEYS.values()) | {"CompositeImplicitAutograd", "CompositeExplicitAutograd",
                                           "Autograd", "AutogradCPU", "Python", "Tracer"}
    if device_type in known:
        return device_type
    raise CustomOpError(f"{what}: unknown device type {device_type!r}; use one of "
                        f"{sorted(_DEVICE_KEYS)} (or a dispatch key name such as 'CPU')")


def _device_keys(device_types, what):
    if device_types is None:
        return [_DEFAULT_KEY]
    if isinstance(device_types, str):
        device_types = (device_types,)
    return [_key_of(d, what) for d in device_types]


# ---- infer_schema -------------------------------------------------------------------------

_NONE_TYPE = type(None)
_SCALAR_TYPES = {
    int: "SymInt",  # as PyTorch writes it; switchyard reads SymInt as int
    float: "float",
    bool: "bool",
    str: "str",
    numbers.Number: "Scalar",
}
_LIST_ELEMENTS = {int: "SymInt", float: "float", bool: "bool"}
_SEQUENCE_ORIGINS = (list, collections.abc.Sequence, typing.Sequence, typing.List)


def _hint_names():
    import switchyard

    names = {"Tensor": _C.Tensor, "Optional": typing.Optional, "List": typing.List,
             "Sequence": typing.Sequence, "Union": typing.Union, "Tuple": typing.Tuple,
             "Number": numbers.Number, "sy": switchyard, "switchyard": switchyard,
             "dtype": _C.dtype, "device": _C.device}
    return names


def _type_hints(fn, error):
    try:
        return typing.get_type_hints(fn, globalns={**_hint_names(), **getattr(fn, "__globals__", {})})
    except Exception as e:  # a string annotation that names nothing known
        error(f"a type annotation could not be read ({e}).")


def _unoptional(ann):
    """(inner, True) for Optional[inner], else (ann, False)."""
    if typing.get_origin(ann) in (typing.Union, getattr(types, "UnionType", ())):
        args = [a for a in typing.get_args(ann) if a is not _NONE_TYPE]
        if len(args) == 1 and len(typing.get_args(ann)) == 2:
            return args[0], True
    return ann, False


def _is_tensor_type(t):
    return isinstance(t, type) and issubclass(t, _C.Tensor)


def _param_type(ann):
    """The schema type of a parameter annotation, or None when it has none."""
    inner, optional = _unoptional(ann)
    base = None
    if _is_tensor_type(inner):
        base = "Tensor"
    elif inner in _SCALAR_TYPES:
        base = _SCALAR_TYPES[inner]
    elif inner is _C.dtype:
        base = "ScalarType"
    elif inner is _C.device:
        base = "Device"
    elif typing.get_origin(inner) in _SEQUENCE_ORIGINS:
        (elem,) = typing.get_args(inner) or (None,)
        elem_inner, elem_optional = _unoptional(elem)
        if _is_tensor_type(elem_inner):
            base = "Tensor?[]" if elem_optional else "Tensor[]"
        elif elem in _LIST_ELEMENTS:
            base = _LIST_ELEMENTS[elem] + "[]"
    elif typing.get_origin(inner) is typing.Union and set(typing.get_args(inner)) <= {int, float, bool}:
        base = "Scalar"
    if base is None:
        return None
    return base + "?" if optional else base


def _return_type(ann):
    if ann is None or ann is _NONE_TYPE:
        return "()"
    if _is_tensor_type(ann):
        return "Tensor"
    if ann in (int, float, bool):
        return _SCALAR_TYPES[ann]
    origin = typing.get_origin(ann)
    if origin in _SEQUENCE_ORIGINS and all(_is_tensor_type(a) for a in typing.get_args(ann)):
        return "Tensor[]"
    if origin is tuple:
        items = typing.get_args(ann)
        if items and Ellipsis not in items:
            parts = [_return_type(a) for a in items]
            if all(p not in (None, "()") for p in parts):
                return "(" + ", ".join(parts) + ")"
    return None


def _default_text(value, schema_type):
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, _C.dtype):
        return str(value).split(".")[-1]
    if isinstance(value, _C.device):
        return '"' + str(value) + '"'
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, bool)) for v in value):
        return "[" + ", ".join(_default_text(v, None) for v in value) + "]"
    return None


def infer_schema(prototype_function, /, *, mutates_args=(), op_name=None):
    """The schema of ``prototype_function`` from its type hints, as PyTorch infers it.

    ``def f(x: Tensor, n: int = 2) -> Tensor`` gives ``"(Tensor x, SymInt n=2) -> Tensor"``
    (``op_name="f"`` puts the name in front). A parameter named in ``mutates_args``
    becomes ``Tensor(a0!)``, ``Tensor(a1!)``, ...; ``mutates_args="unknown"`` marks
    every tensor parameter. Parameter types: Tensor, int, float, bool, str,
    numbers.Number (Scalar), sy.dtype, sy.device, Optional[...] of those, and
    Sequence/List of Tensor, Optional[Tensor], int, float, bool. Returns: Tensor,
    int, float, bool, None, a Tuple of them, or a Sequence/List of Tensor.

    Raises ``CustomOpError`` (a ValueError) naming the parameter it cannot type.
    """
    try:
        sig = __import__("inspect").signature(prototype_function)
    except (TypeError, ValueError) as e:
        raise CustomOpError(f"infer_schema: {prototype_function!r} has no signature to read ({e})")

    def error(what):
        raise CustomOpError(f"infer_schema({getattr(prototype_function, '__qualname__', '?')}): "
                            f"{what} Got func with signature {sig}")

    hints = _type_hints(prototype_function, error)
    unknown = isinstance(mutates_args, str)
    if unknown and mutates_args != "unknown":
        error(f'mutates_args must be a collection of parameter names or "unknown", '
              f"not the str {mutates_args!r}.")
    mutated = set() if unknown else set(mutates_args)
    Param = __import__("inspect").Parameter
    params, seen_kwonly, alias = [], False, 0
    for name, p in sig.parameters.items():
        if p.kind in (Param.POSITIONAL_ONLY, Param.VAR_POSITIONAL, Param.VAR_KEYWORD):
            error(f"Parameter {name}: positional-only parameters, *args and **kwargs cannot "
                  "be in a schema.")
        if name not in hints:
            error(f"Parameter {name} must have a type annotation.")
        schema_type = _param_type(hints[name])
        if schema_type is None:
            error(f"Parameter {name} has unsupported type {hints[name]!r}. The valid types are: "
                  "Tensor, int, float, bool, str, numbers.Number, sy.dtype, sy.device, "
                  "Optional[...] of those, and Sequence[...] of Tensor, int, float or bool.")
        if name in mutated or (unknown and schema_type.startswith("Tensor")):
            if not schema_type.startswith("Tensor"):
                error(f"Parameter {name} is in mutates_args but only Tensors or collections "
                      "of Tensors can be mutated.")
            # Tensor(a0!), Tensor(a0!)?, Tensor(a0!)[]: the mark goes on the base type.
            schema_type = f"Tensor(a{alias}!)" + schema_type[len("Tensor"):]
            alias += 1
        text = f"{schema_type} {name}"
        if p.default is not Param.empty:
            default = _default_text(p.default, schema_type)
            if default is None:
                error(f"Parameter {name} has a default value {p.default!r} that a schema "
                      "cannot hold.")
            text += "=" + default
        if p.kind is Param.KEYWORD_ONLY and not seen_kwonly:
            params.append("*")
            seen_kwonly = True
        params.append(text)
    if not unknown:
        missing = sorted(mutated - set(sig.parameters))
        if missing:
            error(f"{missing} in mutates_args were not found in the custom op's signature. "
                  "mutates_args should contain the names of parameters that the op mutates.")
    if "return" not in hints:
        error("No return type annotation was provided. Please add one.")
    returns = _return_type(hints["return"])
    if returns is None:
        error(f"Return has unsupported type {hints['return']!r}. The valid types are: Tensor, "
              "int, float, bool, None, Tuple[...] of those, and Sequence[Tensor].")
    schema = "(" + ", ".join(params) + ") -> " + returns
    return (op_name + schema) if op_name else schema


# ---- custom_op ----------------------------------------------------------------------------

# Every custom op by qualified name: ops live as long as the process, as PyTorch's do.
_OPDEFS = {}


def _library():
    from switchyard import library  # library imports this module

    return library


def _op_packet(ns, name):
    from switchyard.ops import ops

    return getattr(getattr(ops, ns), name)


class CustomOpDef:
    """What ``custom_op`` returns: call it to run the op (``sy.ops.<ns>.<name>`` is
    the same op); ``register_fake`` and ``register_kernel`` add kernels."""

    def __init__(self, namespace, name, schema, fn, device_types, site):
        self._namespace = namespace
        self._name = name
        self._qualname = f"{namespace}::{name}"
        self._schema = schema
        self._init_fn = fn
        self._libs = {}  # key -> the Library holding this op's kernel there
        self._abstract_fn = None
        lib = _library().Library._at(namespace, "FRAGMENT", site)
        lib._lib.define(name + schema, site[0], site[1], [])
        self._libs["def"] = lib
        self._opoverload = _op_packet(namespace, name).default
        self.__name__ = name
        self.__qualname__ = getattr(fn, "__qualname__", name)
        self.__module__ = getattr(fn, "__module__", None)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn
        if fn is not None:
            for key in _device_keys(device_types, f"custom_op({self._qualname!r})"):
                self._register(key, fn, site)
        self._register("Meta", self._missing_fake, site)
        # Calls go straight to the C++ overload rather than through a Python frame:
        # each op gets a class of its own whose __call__ is its overload (as a
        # staticmethod, so that it is not bound to the CustomOpDef).
        self.__class__ = type("CustomOpDef", (CustomOpDef,),
                              {"__call__": staticmethod(self._opoverload)})

    def __repr__(self):
        return f"<CustomOpDef({self._qualname})>"

    def __call__(self, *args, **kwargs):  # replaced per op in __init__
        return self._opoverload(*args, **kwargs)

    def _register(self, key, fn, site):
        old = self._libs.pop(key, None)
        if old is not None:
            old.destroy()  # replaced, not overridden: no warning
        lib = _library().Library._at(self._namespace, "FRAGMENT", site)
        lib._lib.impl(self._name, fn, key, False, site[0], site[1])
        self._libs[key] = lib

    def _missing_fake(self, *args, **kwargs):
        raise _C.DispatchError(
            f"{self._qualname} has no fake kernel, so it cannot run on meta tensors (or fake "
            f"tensors): register one with @{self._name}.register_fake or "
            f"sy.library.register_fake({self._qualname!r})")

    def register_kernel(self, device_types, fn=None, /):
        """Registers ``fn`` as the kernel for ``device_types`` ("cpu", or a tuple), in
        place of the op's own function there. Usable as a decorator."""
        site = _user_site()
        keys = _device_keys(device_types, f"{self._qualname}.register_kernel")

        def register(fn):
            if not callable(fn):
                raise CustomOpError(f"{self._qualname}.register_kernel: expected a callable, "
                                    f"got {fn!r}")
            for key in keys:
                self._register(key, fn, site)
            return fn

        return register if fn is None else register(fn)

    def register_fake(self, fn=None, /):
        """Registers the fake kernel: it gets meta tensors and returns tensors of the
        right shape and dtype made with ``sy.empty``/``empty_like`` (never reading
        data). It runs for meta tensors and under fake-tensor modes. Usable as a
        decorator."""
        site = _user_site()

        def register(fn):
            if not callable(fn):
                raise CustomOpError(f"{self._qualname}.register_fake: expected a callable, "
                                    f"got {fn!r}")
            self._abstract_fn = fn
            self._register("Meta", fn, site)
            return fn

        return register if fn is None else register(fn)

    def register_autograd(self, backward, /, *, setup_context=None):
        """Makes the op differentiable: ``backward(ctx, *grads)`` returns one gradient
        per positional input (None where there is none), and
        ``setup_context(ctx, inputs, output)`` (with ``keyword_only_inputs`` too
        when the op has keyword-only arguments) saves what backward needs, as in
        ``sy.autograd.Function``. Ops that mutate arguments are refused, as in
        PyTorch."""
        site = _user_site()
        try:
            from switchyard import autograd
        except ImportError:
            raise CustomOpError(f"{self._qualname}.register_autograd: this build has no "
                                "autograd (switchyard.autograd)") from None
        schema = self._opoverload._schema
        if "!" in schema:
            raise CustomOpError(f"{self._qualname}.register_autograd: the op writes into an "
                                "argument; register_autograd supports functional ops only")
        if not callable(backward) or (setup_context is not None and not callable(setup_context)):
            raise CustomOpError(f"{self._qualname}.register_autograd: backward and "
                                "setup_context must be callables")
        op, qualname = self._opoverload, self._qualname
        n_positional = len(_positional_names(schema))
        has_kwonly = bool(_kwonly_names(schema))
        user_backward, user_setup = backward, setup_context

        class Node(autograd.Function):
            @staticmethod
            def forward(kw, *args):
                with _C._ExcludeDispatchKeyGuard(_AUTOGRAD_KEYS):
                    return op(*args, **kw)

            @staticmethod
            def setup_context(ctx, inputs, output):
                if user_setup is None:
                    return
                if has_kwonly:
                    user_setup(ctx=ctx, inputs=inputs[1:], keyword_only_inputs=inputs[0],
                               output=output)
                else:
                    user_setup(ctx=ctx, inputs=inputs[1:], output=output)

            @staticmethod
            def backward(ctx, *grads):
                result = user_backward(ctx, *grads)
                if not isinstance(result, (tuple, list)):
                    result = (result,)
                if len(result) != n_positional:
                    raise CustomOpError(
                        f"{qualname}: its backward returned {len(result)} gradients; it must "
                        f"return one per positional input ({n_positional}), None where "
                        "there is none")
                return (None, *result)

        Node.__name__ = Node.__qualname__ = f"{self._name}_backward"

        def autograd_kernel(*args, **kwargs):
            return Node.apply(kwargs, *args)

        self._register("Autograd", autograd_kernel, site)

    def _destroy(self):
        """Removes the op and its kernels (tests)."""
        for lib in self._libs.values():
            lib.destroy()
        self._libs.clear()
        _OPDEFS.pop(self._qualname, None)


def custom_op(name, fn=None, /, *, mutates_args=(), device_types=None, schema=None):
    """Turns a function with type hints into the op ``name`` ("ns::op").

    Args:
      name: "namespace::name".
      fn: the function; without it, ``custom_op`` returns a decorator.
      mutates_args: names of the tensor parameters the function writes into
        ("unknown": all of them). opcheck checks that no other one is written.
      device_types: "cpu", or a sequence of device types, that ``fn`` runs for;
        None (default) for every device except meta, which takes the fake kernel.
      schema: the schema after the name, "(Tensor x) -> Tensor", instead of the
        one inferred from the type hints.

    Returns a ``CustomOpDef``: calling it runs the op through the dispatcher (so
    modes, the tracer and subclasses see it), as does ``sy.ops.<ns>.<name>``.
    """
    site = _user_site()
    ns, op_name = _split_qualname(name, "custom_op")

    def inner(fn):
        if schema is None:
            op_schema = infer_schema(fn, mutates_args=mutates_args)
        else:
            op_schema = schema.strip()
            if not op_schema.startswith("("):
                raise CustomOpError(f"custom_op({name!r}): schema= is the part after the name, "
                                    f"such as \"(Tensor x) -> Tensor\", got {schema!r}")
        opdef = CustomOpDef(ns, op_name, op_schema, fn, device_types, site)
        _OPDEFS[opdef._qualname] = opdef
        return opdef

    return inner if fn is None else inner(fn)


def _opdef_or_name(op, what):
    """A CustomOpDef, or the (ns, name, overload) an OpOverload / "ns::op" names."""
    if isinstance(op, CustomOpDef):
        return op
    if isinstance(op, _C.OpOverload):
        qual = op.name()
    elif isinstance(op, _C.OpOverloadPacket):
        qual = op._qualified_op_name
    elif isinstance(op, str):
        qual = op
    else:
        raise CustomOpError(f'{what}: expected "ns::op", a custom op or an op overload, got {op!r}')
    if qual in _OPDEFS:
        return _OPDEFS[qual]
    return qual


# Per-namespace libraries of the string-form registrations, kept for the process.
_STRING_LIBS = {}


def _string_lib(ns, site, lib):
    if lib is not None:
        return lib
    key = ns
    if key not in _STRING_LIBS:
        _STRING_LIBS[key] = _library().Library._at(ns, "FRAGMENT", site)
    return _STRING_LIBS[key]


def define(qualname, schema=None, *, lib=None, tags=(), alias_analysis=""):
    """Defines an op: ``define("mylib::sin(Tensor x) -> Tensor")`` or, as PyTorch
    2.x writes it, ``define("mylib::sin", "(Tensor x) -> Tensor")``. The op lives
    as long as the process, or as ``lib`` when one is given.

    torch 1.13's form ``@define(lib, "sin(Tensor x) -> Tensor")`` is a decorator
    that defines the op in ``lib`` and registers the function as its kernel at
    the library's key (CompositeImplicitAutograd when it has none).
    """
    library = _library()
    if isinstance(qualname, library.Library):
        lib1_13, text = qualname, schema

        def define_and_impl(fn):
            name = lib1_13.define(text, alias_analysis)
            lib1_13.impl(name, fn)
            return fn

        return define_and_impl
    site = _user_site()
    text = qualname if schema is None else qualname + schema
    head = text.split("(", 1)[0].strip()
    ns, _ = _split_qualname(head.split(".")[0], "define")
    target = _string_lib(ns, site, lib)
    if isinstance(tags, _C.Tag):
        tags = (tags,)
    target._lib.define(library._RETURNS_NONE.sub("-> ()", text), site[0], site[1], list(tags))


def impl_qualname(qualname, types, func=None, *, lib=None):
    """``impl("mylib::sin", "cpu")``: registers the decorated function as the op's
    kernel for a device type (or a sequence of them, or a dispatch key name)."""
    site = _user_site()
    qual = qualname.name() if isinstance(qualname, _C.OpOverload) else qualname
    ns, rest = qual.split("::", 1) if "::" in qual else (None, qual)
    if ns is None:
        raise CustomOpError(f'impl: the op must be named "namespace::name", got {qualname!r}')
    keys = _device_keys(types, f"impl({qual!r})")

    def register(fn):
        target = _string_lib(ns, site, lib)
        for key in keys:
            target._lib.impl(rest, fn, key, False, site[0], site[1])
        return fn

    return register if func is None else register(func)


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """Module-level ``op.register_kernel``; ``op`` may also be an op defined with
    ``define`` ("ns::op")."""
    target = _opdef_or_name(op, "register_kernel")
    if isinstance(target, CustomOpDef):
        return target.register_kernel(device_types, func)
    return impl_qualname(target, device_types, func, lib=lib)


def register_fake(op, func=None, /, *, lib=None):
    """Registers the fake (Meta) kernel of ``op``: a custom op, an OpOverload, or
    "ns::op" (also one defined with ``define``). Usable as a decorator."""
    target = _opdef_or_name(op, "register_fake")
    if isinstance(target, CustomOpDef):
        return target.register_fake(func)
    return impl_qualname(target, "meta", func, lib=lib)


# ---- opcheck ------------------------------------------------------------------------------

DEFAULT_TEST_UTILS = ("test_schema", "test_autograd_registration", "test_faketensor",
                      "test_aot_dispatch_dynamic", "test_gradcheck")


def _split_top(text):
    """Splits at commas outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def _schema_parts(schema):
    """([(type, name)] of the arguments, [type] of the returns) of a schema string."""
    head, returns = schema.rsplit("->", 1)
    args_text = head[head.index("(") + 1: head.rindex(")")]
    args = []
    for part in _split_top(args_text):
        if part == "*":
            continue
        decl = part.split("=", 1)[0].strip()
        type_text, _, arg_name = decl.rpartition(" ")
        args.append((type_text.strip(), arg_name))
    returns = returns.strip()
    if returns.startswith("(") and not returns.startswith("()"):
        rets = [r.rsplit(" ", 1)[0] if " " in r else r for r in _split_top(returns[1:-1])]
    elif returns == "()":
        rets = []
    else:
        rets = [returns]
    return args, rets


def _arg_groups(schema):
    """(positional names, keyword-only names) of a schema string."""
    head = schema.rsplit("->", 1)[0]
    positional, kwonly, after_star = [], [], False
    for part in _split_top(head[head.index("(") + 1: head.rindex(")")]):
        if part == "*":
            after_star = True
            continue
        name = part.split("=", 1)[0].strip().rpartition(" ")[2]
        (kwonly if after_star else positional).append(name)
    return positional, kwonly


def _positional_names(schema):
    return _arg_groups(schema)[0]


def _kwonly_names(schema):
    return _arg_groups(schema)[1]


def _alias_set(type_text):
    """"a" for Tensor(a) / Tensor(a!), None for an unannotated type."""
    if "(" not in type_text:
        return None
    return type_text[type_text.index("(") + 1: type_text.index(")")].rstrip("!")


def _tensors(value):
    if isinstance(value, _C.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, _C.Tensor)]
    return []


def _flat_outputs(out):
    if isinstance(out, (list, tuple)):
        return list(out)
    return [] if out is None else [out]


def _snapshot(t):
    """The bytes and geometry of a tensor, to see whether a call changed it."""
    if t.device.type == "meta":
        return (tuple(t.shape), tuple(t.stride()), t.storage_offset(), None)
    data = _C._storage_bytes(t).numpy().tobytes()
    return (tuple(t.shape), tuple(t.stride()), t.storage_offset(), data)


def _bind(op, args, kwargs):
    """{argument name: value} for the op's schema."""
    schema_args, _ = _schema_parts(op._schema)
    bound = {}
    for (type_text, name), value in zip(schema_args, args):
        bound[name] = (type_text, value)
    for name, value in kwargs.items():
        types_by_name = dict((n, t) for t, n in schema_args)
        if name in types_by_name:
            bound[name] = (types_by_name[name], value)
    return bound


def _clone_tree(value, fn):
    if isinstance(value, _C.Tensor):
        return fn(value)
    if isinstance(value, list):
        return [_clone_tree(v, fn) for v in value]
    if isinstance(value, tuple):
        return tuple(_clone_tree(v, fn) for v in value)
    return value


def _check_schema(op, args, kwargs):
    bound = _bind(op, args, kwargs)
    before = {name: [_snapshot(t) for t in _tensors(v)] for name, (_, v) in bound.items()}
    out = op(*args, **kwargs)
    _, ret_types = _schema_parts(op._schema)
    problems = []
    for name, (type_text, value) in bound.items():
        writable = "!" in type_text
        after = [_snapshot(t) for t in _tensors(value)]
        if after != before[name] and not writable:
            problems.append(f"argument {name!r} was written, but the schema does not mark it "
                            f"as mutated ({type_text}); add it to mutates_args (or write "
                            f"Tensor(a!) {name})")
    outs = _flat_outputs(out)
    input_keys = {}
    for name, (type_text, value) in bound.items():
        for t in _tensors(value):
            input_keys.setdefault(_C._storage_key(t), (name, type_text))
    seen_out = {}
    for i, o in enumerate(outs):
        if not isinstance(o, _C.Tensor):
            continue
        ret_alias = _alias_set(ret_types[i]) if i < len(ret_types) else None
        key = _C._storage_key(o)
        if key in input_keys:
            name, type_text = input_keys[key]
            if ret_alias is None or ret_alias != _alias_set(type_text):
                problems.append(f"output {i} shares memory with argument {name!r}, but the "
                                "schema says it is a new tensor: return a copy (.clone())")
        if key in seen_out and ret_alias is None:
            problems.append(f"outputs {seen_out[key]} and {i} share memory; each output must "
                            "be a new tensor")
        seen_out.setdefault(key, i)
    if problems:
        raise OpCheckError("; ".join(problems))


def _meta_like(t):
    import switchyard as sy

    return sy.empty(tuple(t.shape), dtype=t.dtype, device="meta")


def _check_faketensor(op, args, kwargs):
    real = _flat_outputs(op(*_clone_tree(args, lambda t: t.clone()),
                            **_clone_tree(kwargs, lambda t: t.clone())))
    try:
        fake = _flat_outputs(op(*_clone_tree(args, _meta_like), **_clone_tree(kwargs, _meta_like)))
    except Exception as e:
        raise OpCheckError(f"the op failed on meta tensors (its fake kernel): "
                           f"{type(e).__name__}: {e}") from e
    if len(fake) != len(real):
        raise OpCheckError(f"the fake kernel returned {len(fake)} outputs, the real one {len(real)}")
    for i, (r, f) in enumerate(zip(real, fake)):
        if isinstance(r, _C.Tensor) != isinstance(f, _C.Tensor):
            raise OpCheckError(f"output {i}: the real kernel returned {type(r).__name__}, the "
                               f"fake one {type(f).__name__}")
        if not isinstance(r, _C.Tensor):
            continue
        if tuple(f.shape) != tuple(r.shape):
            raise OpCheckError(f"output {i}: the fake kernel says shape {tuple(f.shape)}, the "
                               f"real kernel returned shape {tuple(r.shape)}")
        if f.dtype != r.dtype:
            raise OpCheckError(f"output {i}: the fake kernel says dtype {f.dtype}, the real "
                               f"kernel returned {r.dtype}")
        if f.device.type != "meta":
            raise OpCheckError(f"output {i}: the fake kernel returned a tensor on {f.device}, "
                               "not on meta")


def _same(a, b, atol, rtol):
    import numpy as np

    if isinstance(a, _C.Tensor) and isinstance(b, _C.Tensor):
        if tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype:
            return False
        x, y = a.numpy(), b.numpy()
        if x.dtype.kind in "fc":
            return bool(np.allclose(x, y, atol=atol or 1e-5, rtol=rtol or 1.3e-6, equal_nan=True))
        return bool(np.array_equal(x, y))
    return a == b


def _check_trace(op, args, kwargs, atol, rtol):
    import switchyard as sy

    # Tensors are the graph's inputs; everything else is a constant of the node.
    positions = []
    flat = []
    for i, a in enumerate(args):
        if isinstance(a, _C.Tensor):
            positions.append(i)
            flat.append(a)

    def fn(*tensors):
        call_args = list(args)
        for i, t in zip(positions, tensors):
            call_args[i] = t
        outs = [o for o in _flat_outputs(op(*call_args, **kwargs)) if isinstance(o, _C.Tensor)]
        # The inputs too: what the op writes into them must replay as well.
        return tuple(outs) + tuple(tensors)

    eager = list(fn(*_clone_tree(flat, lambda t: t.clone())))
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = sy.trace(fn, tuple(_clone_tree(flat, lambda t: t.clone())))
        replayed = _flat_outputs(graph(*_clone_tree(flat, lambda t: t.clone())))
    except Exception as e:
        raise OpCheckError(f"tracing or replaying the op failed: {type(e).__name__}: {e}") from e
    if len(replayed) != len(eager):
        raise OpCheckError(f"the replayed trace returned {len(replayed)} tensors, eager "
                           f"{len(eager)}")
    n_out = len(eager) - len(flat)
    for i, (e, r) in enumerate(zip(eager, replayed)):
        if not _same(e, r, atol, rtol):
            what = f"output {i}" if i < n_out else f"argument {positions[i - n_out]} after the call"
            raise OpCheckError(f"{what}: the replayed trace differs from eager: {r} vs {e}")


def _differentiable_inputs(args, kwargs):
    return [t for t in _tensors(list(args)) + _tensors(list(kwargs.values()))
            if t.requires_grad]


def _check_autograd_registration(op, args, kwargs):
    if not _differentiable_inputs(args, kwargs):
        return  # nothing to differentiate: nothing to check
    kernels = [line.split(":", 1)[0].strip() for line in
               _C._dispatch_dump(op.name()).splitlines() if ": " in line]
    if any(k.startswith("Autograd") or k == "CompositeImplicitAutograd" for k in kernels):
        return
    backends = [k for k in kernels if k not in ("name", "schema", "defined at")]
    raise OpCheckError(
        f"an input requires grad, but the op has no autograd formula: kernels for "
        f"{backends} and none for Autograd, so its outputs would get no gradient. Register "
        "one with op.register_autograd(backward, setup_context=...) (or a kernel at the "
        "Autograd key)")


def _check_gradcheck(op, args, kwargs, atol, rtol):
    if not _differentiable_inputs(args, kwargs):
        return
    try:
        from switchyard import autograd
    except ImportError:
        raise OpCheckError("an input requires grad, but this build has no autograd to check "
                           "gradients with") from None
    positions = [i for i, a in enumerate(args) if isinstance(a, _C.Tensor) and a.requires_grad]
    inputs = tuple(args[i].detach().double().requires_grad_(True) for i in positions)

    def fn(*tensors):
        call_args = list(args)
        for i, t in zip(positions, tensors):
            call_args[i] = t
        return op(*call_args, **kwargs)

    try:
        autograd.gradcheck(fn, inputs, atol=atol or 1e-5, rtol=rtol or 1e-3)
    except Exception as e:
        raise OpCheckError(f"the gradients differ from finite differences (inputs "
                           f"{positions} in float64): {type(e).__name__}: {e}") from e


def opcheck(op, args, kwargs=None, *, test_utils=DEFAULT_TEST_UTILS, raise_exception=True,
            atol=None, rtol=None):
    """Checks that an op's registrations agree with what its kernels do.

    Runs each check named in ``test_utils`` on the sample ``args``/``kwargs``:

    - ``test_schema``: no argument the schema does not mark as mutated is written
      to, and no output shares memory with an argument or another output unless
      the schema says so;
    - ``test_autograd_registration``: when an input requires grad, the op has an
      autograd formula (``register_autograd``, an Autograd kernel, or a
      CompositeImplicitAutograd decomposition);
    - ``test_faketensor``: the op runs on meta copies of the arguments (its fake
      kernel) and gives the shapes and dtypes the real kernel gives;
    - ``test_aot_dispatch_dynamic``: the op traces (``sy.trace``) and the replayed
      trace computes what eager computed (outputs and written arguments);
    - ``test_gradcheck``: when an input requires grad, the op's gradients match
      finite differences (``sy.autograd.gradcheck`` in float64).

    Returns ``{check: "SUCCESS" or the exception}``. With ``raise_exception``
    (default), raises ``OpCheckError`` naming every failed check instead.
    """
    kwargs = kwargs or {}
    target = op._opoverload if isinstance(op, CustomOpDef) else op
    if isinstance(target, _C.OpOverloadPacket):
        target = target.default
    if not isinstance(target, _C.OpOverload):
        raise CustomOpError(f"opcheck: expected a custom op or an OpOverload (sy.ops.ns.op.default), "
                            f"got {op!r}")
    if isinstance(test_utils, str):
        test_utils = (test_utils,)
    checks = {
        "test_schema": lambda: _check_schema(target, _clone_tree(args, lambda t: t.clone()),
                                             _clone_tree(kwargs, lambda t: t.clone())),
        "test_autograd_registration": lambda: _check_autograd_registration(target, args, kwargs),
        "test_faketensor": lambda: _check_faketensor(target, args, kwargs),
        "test_gradcheck": lambda: _check_gradcheck(target, args, kwargs, atol, rtol),
        "test_aot_dispatch_dynamic": lambda: _check_trace(target, args, kwargs, atol, rtol),
    }
    unknown = [t for t in test_utils if t not in checks]
    if unknown:
        raise CustomOpError(f"opcheck: unknown test_utils {unknown}; the checks are {list(checks)}")
    results = {}
    for name in test_utils:
        try:
            checks[name]()
            results[name] = "SUCCESS"
        except Exception as e:  # every failure is reported under its check's name
            results[name] = e
    failed = {k: v for k, v in results.items() if v != "SUCCESS"}
    if failed and raise_exception:
        lines = "\n".join(f"  {k}: {type(v).__name__}: {v}" for k, v in failed.items())
        raise OpCheckError(f"opcheck({target.name()}): {len(failed)} of {len(results)} checks "
                           f"failed:\n{lines}")
    return results
