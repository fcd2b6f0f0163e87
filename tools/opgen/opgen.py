#!/usr/bin/env python3
"""Generates the operator surface from the op table (docs/op-table.md).

    opgen.py --source-dir DIR --out DIR --python-out DIR TABLE.yaml...
        writes the generated C++ and Python (only files whose text changed)
    opgen.py --source-dir DIR --docs docs/ops.md [--check] TABLE.yaml...
        rewrites the op tables in docs/ops.md, or with --check fails when it is stale
    opgen.py --source-dir DIR --autograd-docs docs/autograd.md [--check] TABLE.yaml...
        the same for the autograd coverage table in docs/autograd.md
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autograd  # noqa: E402
import batching  # noqa: E402
import cpp  # noqa: E402
import docs  # noqa: E402
import python  # noqa: E402
from model import TableError, load_tables  # noqa: E402


def write_if_changed(path, text):
    """Leaves a file untouched when its text is the same, so the build does not redo work."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def generate(ops, tables, out, python_out):
    sources = "switchyard/ops/*.yaml"
    ops_dir = os.path.join(out, "switchyard", "ops", "generated")
    write_if_changed(os.path.join(ops_dir, "functions.h"), cpp.functions_h(ops, sources))
    write_if_changed(os.path.join(ops_dir, "functions.cpp"), cpp.functions_cpp(ops, sources))
    write_if_changed(os.path.join(out, "switchyard", "tensor", "generated", "tensor_methods.h"),
                     cpp.tensor_methods_h(ops, sources))
    for table in tables:
        family = os.path.basename(table)[: -len(".yaml")]
        mine = [op for op in ops if op.path == table]
        write_if_changed(os.path.join(ops_dir, f"{family}_registrations.h"),
                         cpp.registrations_h(mine, table, family))
    write_if_changed(os.path.join(out, "tests", "op_table_data.h"),
                     cpp.op_table_data_h(ops, sources))
    autograd_dir = os.path.join(out, "switchyard", "autograd", "generated")
    for table in tables:
        family = os.path.basename(table)[: -len(".yaml")]
        mine = [op for op in ops if op.path == table]
        write_if_changed(os.path.join(autograd_dir, f"{family}_autograd.cpp"),
                         autograd.autograd_cpp(mine, ops, table, family))
    write_if_changed(os.path.join(out, "switchyard", "decompositions", "generated",
                                  "decompositions.cpp"), autograd.decompositions_cpp(ops, sources))
    write_if_changed(os.path.join(out, "switchyard", "transforms", "generated",
                                  "batching_rules.h"), batching.batching_rules_h(ops, sources))
    write_if_changed(os.path.join(out, "tests", "autograd_coverage.h"),
                     autograd.coverage_h(ops, sources))
    write_if_changed(os.path.join(out, "python", "unboxed_calls.cpp"),
                     python.unboxed_calls_cpp(ops, sources))
    if python_out:
        write_if_changed(os.path.join(python_out, "_op_table.py"),
                         python.op_table_py(ops, sources))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tables", nargs="+", help="the YAML files, relative to --source-dir")
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--out", help="where the generated C++ goes")
    parser.add_argument("--python-out", help="where _op_table.py goes")
    parser.add_argument("--docs", help="docs/ops.md, relative to --source-dir")
    parser.add_argument("--autograd-docs", help="docs/autograd.md, relative to --source-dir")
    parser.add_argument("--check", action="store_true", help="with --docs: only compare")
    args = parser.parse_args()
    try:
        ops = load_tables(args.tables, args.source_dir)
        if args.out:
            generate(ops, args.tables, args.out, args.python_out)
        for doc, render, target in ((args.docs, docs.render, "ops_doc"),
                                    (args.autograd_docs, autograd.render_docs, "autograd_doc")):
            if not doc:
                continue
            path = os.path.join(args.source_dir, doc)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            new = render(text, ops)
            if args.check:
                if new != text:
                    print(f"{doc} is out of date with the op table; regenerate it with "
                          f"`cmake --build <build dir> --target {target}`", file=sys.stderr)
                    return 1
            elif new != text:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(new)
    except (TableError, cpp.CppError, docs.DocsError, autograd.AutogradError) as e:
        print(f"opgen: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
