"""vmap's rules from the op table's `batching:` field (docs/op-table.md, docs/transforms.md).

Emits switchyard/transforms/generated/batching_rules.h: one row an op that has a rule,
written in the table or inferred from its tags (model._infer_batching). batching.cpp
includes it after the rule kinds it names, so a kind without a function does not compile.
"""

from cpp import HEADER


def _dim_mask(op):
    mask = 0
    for name in op.batching.dims:
        mask |= 1 << [a.name for a in op.schema.arguments].index(name)
    return mask


def batching_rules_h(ops, sources):
    out = [HEADER.format(src=sources),
           "// The op table's batching rules, for switchyard/transforms/batching.cpp (which\n"
           "// includes this inside its namespace, after the rules): the op, its rule, and a\n"
           "// mask of the arguments (by index) that are dims of self. A row marked\n"
           "// \"inferred\" comes from the op's tags, not from a batching: field.\n\n"
           "inline constexpr TableRule kTableRules[] = {\n"]
    for op in ops:
        b = op.batching
        if b is None:
            continue
        fn = b.fn if b.fn else f"{b.kind}_rule"
        note = "  // inferred" if b.inferred else ""
        out.append(f"    {{\"{op.qualified}\", {fn}, {hex(_dim_mask(op))}}},{note}\n")
    out.append("};\n")
    return "".join(out)
