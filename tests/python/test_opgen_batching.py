"""tools/opgen's `batching:` field: what it accepts, infers, refuses and emits."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "opgen"))

import batching  # noqa: E402
import model  # noqa: E402


def load(tmp_path, entry):
    (tmp_path / "t.yaml").write_text("section: reduction\nops:\n" + entry)
    return model.load_tables(["t.yaml"], str(tmp_path))


SUM_DIM = ("  - schema: sum.dim_IntList(Tensor self, int[]? dim, bool keepdim=False) -> Tensor\n"
           "    kernels: {CPU: sum_dim_k}\n    tags: [reduction]\n    doc: Sums.\n")


def test_a_reduction_with_a_dim_gets_the_dims_rule_from_its_tags(tmp_path):
    (op,) = load(tmp_path, SUM_DIM)
    assert (op.batching.kind, op.batching.dims, op.batching.inferred) == ("dims", ["dim"], True)
    row = batching.batching_rules_h([op], "t.yaml")
    assert '{"sy::sum.dim_IntList", dims_rule, 0x2},  // inferred' in row


def test_a_composite_reduction_is_left_to_its_composite(tmp_path):
    (op,) = load(tmp_path, SUM_DIM.replace("CPU: sum_dim_k", "CompositeImplicitAutograd: f"))
    assert op.batching is None


def test_the_field_names_the_dim_arguments_by_index(tmp_path):
    (op,) = load(tmp_path, "  - schema: transpose.int(Tensor(a) self, int dim0, int dim1) -> "
                           "Tensor(a)\n    kernels: {CPU: t_k}\n    batching: dims(dim0, dim1)\n"
                           "    doc: Swaps.\n")
    assert not op.batching.inferred
    assert '{"sy::transpose.int", dims_rule, 0x6},\n' in batching.batching_rules_h([op], "t")


def test_a_hand_written_rule_is_named_as_is(tmp_path):
    (op,) = load(tmp_path, SUM_DIM + "    batching: {fn: my_rule}\n")
    assert '{"sy::sum.dim_IntList", my_rule, 0x0},\n' in batching.batching_rules_h([op], "t")


@pytest.mark.parametrize("field, message", [
    ("nonsense", "unknown batching rule kind 'nonsense'"),
    ("dims", "names the dim arguments it shifts"),
    ("pointwise(dim)", "pointwise takes no arguments"),
    ("dims(keepdim)", "keepdim is not an int or int[] argument of sum.dim_IntList"),
    ("dims(nope)", "nope is not an int or int[] argument"),
    ("'dims(dim'", "batching is a rule kind"),
])
def test_a_bad_field_stops_the_generator_naming_the_op(tmp_path, field, message):
    with pytest.raises(model.TableError, match=r"t\.yaml:\d+ \(sum\.dim_IntList\)") as e:
        load(tmp_path, SUM_DIM + f"    batching: {field}\n")
    assert message in str(e.value)
