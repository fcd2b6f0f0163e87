"""The docs emitter: the op tables inside docs/ops.md.

docs/ops.md is written by hand except between the markers
    <!-- op-table: <section> -->
    <!-- /op-table -->
whose contents this module owns: a table of the section's ops, one row per op name
(in-place forms with their functional op), with its overloads grouped by the keys of
their kernels, its tags and the doc of its first functional overload.
"""

import re

KEY_NAMES = {"CompositeExplicitAutograd": "CEA", "CompositeImplicitAutograd": "CIA"}
_BLOCK = re.compile(r"(<!-- op-table: (\w+) -->\n)(.*?)(<!-- /op-table -->)", re.S)


class DocsError(Exception):
    pass


def _row(ops):
    names = []
    for op in ops:
        if op.base not in names:
            names.append(op.base)
    by_keys = {}
    for op in ops:
        keys = ", ".join(KEY_NAMES.get(k, k) for k, _ in op.kernels)
        by_keys.setdefault(keys, []).append(f"`{op.name}`")
    kernels = "; ".join(f"{' '.join(o)}: {k}" for k, o in by_keys.items())
    tags = sorted({t for op in ops for t in op.tags if t not in ("inplace", "out")})
    # The first functional overload's doc describes the op; every overload's doc is in
    # the C++ header and the Python docstring.
    first = next((op for op in ops if not (op.is_inplace or op.is_out)), ops[0])
    cell = first.doc.replace("|", "\\|")
    return (f"| {', '.join(f'`{n}`' for n in names)} | {kernels} | {', '.join(tags)} "
            f"| {cell} |\n")


def section_table(ops, section):
    groups = {}
    for op in ops:
        if op.section == section:
            groups.setdefault(op.group, []).append(op)
    out = ["| op | overloads: kernels | tags | what it does |\n", "|---|---|---|---|\n"]
    out += [_row(g) for g in groups.values()]
    return "".join(out)


def render(text, ops):
    """docs/ops.md with every op-table block rewritten; a section without a block is an
    error (each section's ops must appear)."""
    sections = {op.section for op in ops}
    seen = set()

    def replace(m):
        seen.add(m.group(2))
        return m.group(1) + section_table(ops, m.group(2)) + m.group(4)

    result = _BLOCK.sub(replace, text)
    missing = sorted(sections - seen)
    if missing:
        raise DocsError("docs/ops.md has no '<!-- op-table: NAME -->' block for: "
                        + ", ".join(missing))
    return result
