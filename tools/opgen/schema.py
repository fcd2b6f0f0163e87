"""The parts of a schema the generator needs: names, types, defaults, aliasing.

switchyard/dispatch/schema_parser.cpp is the authority on the schema language; this
reads the same text far enough to derive C++ signatures and tags, and the build checks
that both parsers agree (op_table_test parses each table schema in C++ and compares it
with the registered one).
"""

import re
from dataclasses import dataclass, field

# Spellings of native_functions.yaml that switchyard reads as another type.
TYPE_ALIASES = {"SymInt": "int"}
BASE_TYPES = {"Tensor", "int", "float", "bool", "str", "Scalar", "ScalarType", "Device",
              "Generator", "Layout", "MemoryFormat"}

_TOKEN = re.compile(r"""\s*(?:
    (?P<arrow>->) | (?P<coloncolon>::) |
    (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") |
    (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?) |
    (?P<ident>[A-Za-z_][A-Za-z0-9_]*) |
    (?P<punct>[()\[\],*?!=.])
)""", re.VERBOSE)


class SchemaError(ValueError):
    pass


@dataclass
class Type:
    base: str                 # "Tensor", "int", ...
    optional: bool = False    # T?  (for lists: the whole list, T[]?)
    list: bool = False        # T[] / T[N]
    list_size: int = None
    elem_optional: bool = False  # Tensor?[]

    def __str__(self):
        s = self.base + ("?" if self.elem_optional else "")
        if self.list:
            s += f"[{self.list_size}]" if self.list_size is not None else "[]"
        return s + ("?" if self.optional else "")

    def without_optional(self):
        return Type(self.base, False, self.list, self.list_size, self.elem_optional)

    @property
    def is_tensor_like(self):
        return self.base == "Tensor"


@dataclass
class Argument:
    name: str
    type: Type
    default: str = None       # the literal as written, None when there is none
    kwarg_only: bool = False
    alias: str = None         # "a" for Tensor(a) / Tensor(a!)
    is_write: bool = False

    @property
    def has_default(self):
        return self.default is not None


@dataclass
class Return:
    type: Type
    name: str = ""
    alias: str = None
    is_write: bool = False


@dataclass
class Schema:
    name: str
    overload: str
    arguments: list = field(default_factory=list)
    returns: list = field(default_factory=list)
    text: str = ""

    @property
    def full_name(self):
        return f"{self.name}.{self.overload}" if self.overload else self.name

    def argument(self, name):
        for a in self.arguments:
            if a.name == name:
                return a
        return None


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise SchemaError(f"unexpected character {text[pos]!r} at {pos + 1} in: {text}")
        kind = m.lastgroup
        value = m.group(kind)
        out.append((value if kind == "punct" else kind, value))
        pos = m.end()
    out.append(("end", ""))
    return out


class _Parser:
    def __init__(self, text, signature=False):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.signature = signature  # an explicit C++ signature: no returns

    def peek(self):
        return self.toks[self.i][0]

    def value(self):
        return self.toks[self.i][1]

    def take(self, kind, what):
        if self.peek() != kind:
            raise SchemaError(f"expected {what}, found {self.value()!r} in: {self.text}")
        v = self.value()
        self.i += 1
        return v

    def accept(self, kind):
        if self.peek() == kind:
            self.i += 1
            return True
        return False

    def schema(self):
        name = self.take("ident", "an operator name")
        if self.accept("coloncolon"):
            raise SchemaError(f"write table schemas without a namespace: {self.text}")
        overload = ""
        if self.accept("."):
            overload = self.take("ident", "an overload name")
        self.take("(", "'('")
        args = self.arguments()
        rets = []
        if not self.signature:
            self.take("arrow", "'->'")
            rets = self.returns()
        self.take("end", "the end of the schema")
        return Schema(name, overload, args, rets, self.text)

    def type(self):
        base = self.take("ident", "a type")
        base = TYPE_ALIASES.get(base, base)
        if base not in BASE_TYPES and base != "TensorOptions":
            raise SchemaError(f"unknown type {base!r} in: {self.text}")
        alias, write = None, False
        if self.accept("("):
            alias = self.take("ident", "an alias set")
            write = self.accept("!")
            self.take(")", "')' after the alias annotation")
        t = Type(base)
        if self.accept("?"):
            t.optional = True
        if self.accept("["):
            if self.peek() == "number":
                t.list_size = int(self.take("number", "a list size"))
            self.take("]", "']'")
            t.list = True
            t.elem_optional, t.optional = t.optional, self.accept("?")
        return t, alias, write

    def default(self):
        if self.peek() == "[":
            depth, parts = 0, []
            while True:
                v = self.value()
                parts.append(v)
                if self.peek() == "[":
                    depth += 1
                elif self.peek() == "]":
                    depth -= 1
                self.i += 1
                if depth == 0:
                    return "".join(p if p != "," else ", " for p in parts)
        kind = self.peek()
        if kind in ("number", "string", "ident"):
            return self.take(kind, "a default")
        raise SchemaError(f"expected a default value, found {self.value()!r} in: {self.text}")

    def arguments(self):
        args, kwarg_only = [], False
        if self.accept(")"):
            return args
        while True:
            if self.accept("*"):
                kwarg_only = True
                self.take(",", "',' after '*'")
                continue
            t, alias, write = self.type()
            name = self.take("ident", "an argument name")
            default = self.default() if self.accept("=") else None
            if any(a.name == name for a in args):
                raise SchemaError(f"duplicate argument {name!r} in: {self.text}")
            args.append(Argument(name, t, default, kwarg_only, alias, write))
            if self.accept(")"):
                return args
            self.take(",", "',' or ')'")

    def returns(self):
        if self.peek() == "ident" and self.value() == "None":
            self.i += 1
            return []
        if not self.accept("("):
            t, alias, write = self.type()
            return [Return(t, "", alias, write)]
        rets = []
        if self.accept(")"):
            return rets
        while True:
            t, alias, write = self.type()
            name = self.take("ident", "a return name") if self.peek() == "ident" else ""
            rets.append(Return(t, name, alias, write))
            if self.accept(")"):
                return rets
            self.take(",", "',' or ')'")


def parse_schema(text):
    return _Parser(text).schema()


def parse_signature(text):
    """An explicit C++ signature: `name(args)` in the schema language, no returns."""
    return _Parser(text, signature=True).schema()
