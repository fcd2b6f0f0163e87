"""Bad input never crashes and never answers wrong in silence (issue 12; issue 11 item 3).

Every probe runs in a child process (the `prober` fixture, isolation.py), so a
regression to a crash fails its own test and the rest of the suite goes on. The
probes are in adversarial_probes.py.
"""

import pytest

P = "adversarial_probes:"


def ok(outcome):
    assert outcome.status == "ok", outcome.describe()
    return outcome.value


def raises(outcome, error, *fragments):
    assert outcome.status == "raised", outcome.describe()
    assert outcome.error == error, outcome.describe()
    for fragment in fragments:
        assert fragment in outcome.message, outcome.describe()
    return outcome.message


# ---- crashes: each is now a clear exception ---------------------------------------------------

@pytest.mark.parametrize("data", [
    "[1, []]", "[[], 1]", "[7.0] * 100000 + [[]]", "[1, [2, 3, 4, 5, 6, 7, 8, 9]]",
    "[[1], [2, 3]]", "[[1, 2], 3]", "[[[1]], [2]]",
])
def test_a_number_beside_a_list_is_ragged(prober, data):
    raises(prober.run(P + "tensor_from", data), "ValueError", "ragged")


def test_nesting_deeper_than_the_dimension_cap_is_an_error(prober):
    raises(prober.run(P + "nested_deep", 100000), "ValueError", "at most 64 dimensions")
    assert ok(prober.run(P + "nested_deep", 63)) == [1] * 63 + [1]


@pytest.mark.parametrize("probe,fragment", [("self_containing_list", "ragged"),
                                            ("self_containing_first", "contains itself")])
def test_a_list_that_contains_itself_is_an_error(prober, probe, fragment):
    raises(prober.run(P + probe), "ValueError", fragment)


@pytest.mark.parametrize("what", ["repr", "tolist"])
def test_tensors_have_at_most_64_dimensions(prober, what):
    raises(prober.run(P + "many_dims", 100000, what), "ValueError", "at most 64 dimensions")
    assert prober.run(P + "many_dims", 64, what).status == "ok"


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("op", ["floor_divide", "remainder", "trunc", "floor",
                                "scalar_floor_divide", "scalar_remainder"])
def test_integer_minimum_divided_by_minus_one_wraps(prober, dtype, op):
    low = -2**63 if dtype == "int64" else -2**31
    got = ok(prober.run(P + "min_int_division", dtype, op))
    # The quotient wraps to the minimum itself; the remainder is 0 (7 % -1 too).
    assert got == ([0, 0, 0, 0] if op.endswith("remainder") else [low, low, -7, 7])


@pytest.mark.parametrize("bad", ["meta", "cpu"])
def test_backend_kernels_do_not_call_user_kernels(prober, bad):
    got = ok(prober.run(P + "inner_calls_skip_user_kernels", bad))
    assert got["same"], got


@pytest.mark.parametrize("body", ["sy.add(x, x)", "x.sum()", "sy.trace(lambda a: a * 2 + a, (x,))",
                                  "kernel"])
def test_interpreter_exit_during_a_gil_free_call_is_clean(prober, body):
    for returncode, stderr in ok(prober.run(P + "exit_with_daemon_thread", body, timeout=300)):
        assert returncode == 0, stderr
        assert "terminate called" not in stderr and "Fatal Python error" not in stderr, stderr


def test_a_kernel_calling_its_own_op_ends_in_recursion_error(prober):
    raises(prober.run(P + "recursion_through_kernel", 1000000), "RecursionError",
           "recursion depth")
    raises(prober.run(P + "recursion_through_kernel", 1000), "RecursionError")


# ---- silently wrong -------------------------------------------------------------------------

def test_zero_size_dims_anywhere_are_not_overlap(prober):
    got = ok(prober.run(P + "zero_size_middle_dims"))
    assert got == {"zeros": [3, 0], "ones": [2, 0, 3], "clone": [3, 0], "cat": [5, 0],
                   "mm": [[0.0] * 3] * 2, "matmul": [0], "add_out": [2, 0], "fill": [4, 0, 2]}


def test_true_division_promotes_before_converting_the_scalar(prober):
    got = ok(prober.run(P + "int_true_division"))
    expected = {"u8/256": [10 / 256, 200 / 256], "u8/-3": [10 / -3, 200 / -3],
                "i32/2**31": [10 / 2**31, -7 / 2**31], "i32/2**40": [10 / 2**40, -7 / 2**40],
                "256/u8": [25.6, 1.28]}
    for key, values in expected.items():
        assert got[key] == pytest.approx(values, rel=1e-6), key


@pytest.mark.parametrize("dtype,exponent,error", [
    ("uint8", "-1", "negative power"), ("int32", "-2", "negative power"),
    ("int32", "2**40", "without overflow"), ("int32", "2**31", "without overflow"),
    ("uint8", "256", "without overflow"),
])
def test_integer_powers_that_cannot_hold_raise(prober, dtype, exponent, error):
    raises(prober.run(P + "int_power", dtype, exponent), "ValueError", error)


def as_int64(v):
    v %= 2**64
    return v - 2**64 if v >= 2**63 else v


def test_integer_powers_in_range_wrap_as_int64_does(prober):
    assert ok(prober.run(P + "int_power", "int64", "2**40")) == [
        as_int64(pow(2, 2**40, 2**64)), as_int64(pow(3, 2**40, 2**64))]
    assert ok(prober.run(P + "int_power", "uint8", "3")) == [8, 27]


@pytest.mark.parametrize("in_place", [False, True])
def test_relu_keeps_nan_and_negative_zero(prober, in_place):
    assert ok(prober.run(P + "relu_special_values", in_place)) == [
        "nan", "-0.0", "0.0", "2.0", "0.0"]


def test_keyword_only_means_keyword_only_and_varargs_fill_the_list(prober):
    got = ok(prober.run(P + "keyword_only_binding"))
    assert got == {"varargs": [1, 2, 3, 0], "list": [1, 2, 5], "expand": [4, 3], "view": [2, 3]}
    raises(prober.run(P + "positional_into_keyword_only"), "TypeError",
           "takes 2 positional arguments but 3 were given")


@pytest.mark.parametrize("case", ["copy", "index_select", "gather", "sum_out", "add_out", "mm"])
def test_mixing_cpu_and_meta_is_a_device_error(prober, case):
    outcome = prober.run(P + "cpu_meta_mix", case)
    assert outcome.status == "raised", outcome.describe()
    assert "meta" in outcome.message and "cpu" in outcome.message, outcome.describe()


def test_copying_into_a_meta_tensor_is_allowed(prober):
    assert ok(prober.run(P + "cpu_meta_mix", "meta_copy_from_cpu"))["device"] == "meta"


@pytest.mark.parametrize("kind", ["bytes", "numpy"])
def test_from_numpy_copies_read_only_buffers(prober, kind):
    got = ok(prober.run(P + "from_readonly_buffer", kind))
    if kind == "bytes":
        assert got == {"tensor": [1, 1, 1, 1], "source": [97, 98, 99, 100]}
    else:
        assert got == {"tensor": [7.0] * 4, "source": [0.0, 1.0, 2.0, 3.0]}


def test_mode_decorators_cover_generator_bodies(prober):
    assert ok(prober.run(P + "no_grad_generator")) == [
        False, ["between", True], False, ["between", True], True]


@pytest.mark.parametrize("case,fragment", [
    ("tensor_uint8", "300"), ("tensor_int32", "2147483648"), ("tensor_nan_int", "nan"),
    ("tensor_2_63", "overflows int64"), ("setitem_nan", "nan"), ("setitem_1000", "1000"),
    ("full_1000", "1000"), ("fill_inf_int", "inf"),
])
def test_out_of_range_values_raise(prober, case, fragment):
    raises(prober.run(P + "out_of_range_value", case), "ValueError", fragment)


def test_in_range_values_convert_as_in_pytorch(prober):
    assert ok(prober.run(P + "in_range_values")) == {
        "wrap_negative_uint8": [255], "float_truncates": [1, -2], "bool": [True, False],
        "big_float32": True, "fill_minus_one_uint8": [255]}


def test_fixed_size_lists_hold_their_size(prober):
    raises(prober.run(P + "fixed_size_list", "three"), "TypeError", "has 3 values",
           "int[2] holds 2")
    raises(prober.run(P + "fixed_size_list", "schema_default"), "SchemaError",
           "int[2] holds 2")
    assert ok(prober.run(P + "fixed_size_list", "two")) == [1, 2]
    assert ok(prober.run(P + "fixed_size_list", "one")) == [5, 5]
    assert ok(prober.run(P + "fixed_size_list", "empty")) == []


def test_operators_on_integers_are_bitwise(prober):
    got = ok(prober.run(P + "bitwise_ops"))
    assert got == {"invert": [-2, -3, -13], "and": [1, 2, 8], "or": [3, 3, 14],
                   "xor": [2, 1, 6], "and_scalar": [0, 2, 0],
                   "invert_bool": [False, True, False], "and_bool": [True, False, False],
                   "invert_uint8": [255, 0]}


@pytest.mark.parametrize("ns", ["", "a b::c", "1abc", "a.b", "a-b"])
def test_library_namespaces_are_identifiers(prober, ns):
    raises(prober.run(P + "library_name", ns, "DEF", ""), "DispatchError", "identifier")


def test_valid_library_namespaces_are_accepted(prober):
    assert ok(prober.run(P + "library_name", "my_lib2", "DEF", "")) == "accepted"
    assert ok(prober.run(P + "library_name", "_", "IMPL", "CPU")) == "accepted"


def test_fallbacks_come_from_namespace_underscore_only(prober):
    raises(prober.run(P + "python_fallback_from_namespace", "foo"), "DispatchError",
           'namespace "_"')
    assert ok(prober.run(P + "python_fallback_from_namespace", "_")) == "accepted"


# ---- unclear errors -----------------------------------------------------------------------

@pytest.mark.parametrize("case", ["index", "add", "empty", "list"])
def test_integers_beyond_int64_say_they_overflow(prober, case):
    message = raises(prober.run(P + "huge_int_argument", case), "TypeError", "overflows int64")
    assert "must be int, not int" not in message


@pytest.mark.parametrize("case,fragment", [
    ("torch_tensor", "torch.Tensor from another library"),
    ("int_overflow", "overflows int64"),
    ("surrogate", "lone surrogate"),
])
def test_a_kernel_returning_the_wrong_thing_says_why(prober, case, fragment):
    raises(prober.run(P + "kernel_returns", case), "TypeError", fragment)


def test_an_exception_in_index_propagates(prober):
    raises(prober.run(P + "index_raises"), "KeyError", "raised in __index__")


def test_mean_with_an_integer_out_blames_out(prober):
    raises(prober.run(P + "mean_out_int"), "TypeError", "out is int64")


def test_excluding_the_backend_names_the_excluded_keys(prober):
    message = raises(prober.run(P + "excluded_backend"), "DispatchError", "excludes")
    assert "without tensor arguments" not in message


# ---- issue 11, item 3 -------------------------------------------------------------------------

def test_tensor_copies_numpy_arrays_and_takes_numpy_scalars(prober):
    got = ok(prober.run(P + "tensor_from_numpy"))
    assert got["t"] == {"dtype": "int32", "shape": [2, 3], "values": [[0, 1, 2], [3, 4, 5]]}
    assert got["float64"] == {"dtype": "float64", "shape": [2], "values": [3.0, 1.0]}
    assert got["as_float"]["dtype"] == "float32"
    assert got["scalar_f32"] == {"dtype": "float32", "shape": [], "values": 1.5}
    assert got["scalar_i32"] == {"dtype": "int32", "shape": [], "values": 3}
    assert got["scalar_f64"] == {"dtype": "float64", "shape": [], "values": 2.5}
    assert got["list_of_scalars"] == {"dtype": "float32", "shape": [2], "values": [1.5, 2.0]}
    assert got["list_of_arrays"]["shape"] == [2, 3]
    assert got["int16_as_int64"] == {"dtype": "int64", "shape": [2], "values": [1, 2]}


def test_tensor_copies_torch_tensors_through_dlpack(prober):
    got = ok(prober.run(P + "tensor_from_torch"))
    assert got["t"] == {"dtype": "float32", "shape": [2, 2], "values": [[0.0, 1.0], [2.0, 3.0]]}
    assert got["list"] == {"dtype": "float32", "shape": [2], "values": [1.5, 2.5]}
    assert got["strided"]["values"] == [[0, 3], [1, 4], [2, 5]]


def test_python_lists_with_none_convert_to_optional_tensor_lists(prober):
    assert ok(prober.run(P + "optional_tensor_list")) == [2, 0, 3]


@pytest.mark.parametrize("case", ["add_", "setitem", "view", "out", "copy_"])
def test_in_place_on_an_inference_tensor_outside_inference_mode_is_refused(prober, case):
    raises(prober.run(P + "inference_tensor_in_place", case), "Error", "inference tensor")


@pytest.mark.parametrize("case", ["inside_mode", "out_of_place"])
def test_inference_tensors_are_usable_where_pytorch_allows(prober, case):
    assert ok(prober.run(P + "inference_tensor_in_place", case))["values"] == [2.0, 2.0]


@pytest.mark.parametrize("n,fragment", [(2, "2 values"), (0, "no values")])
def test_truth_value_of_many_elements_is_ambiguous(prober, n, fragment):
    raises(prober.run(P + "truth_value", n), "Error", "ambiguous", fragment)
    assert ok(prober.run(P + "truth_value", 1)) is True
