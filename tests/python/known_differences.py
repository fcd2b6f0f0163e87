"""Where switchyard differs from PyTorch 1.13 on purpose, and why (docs/differences.md).

test_differential.py consults this list before it fails on a difference: each
entry is a predicate over the case (and the verdict: what each library did) and
the reason. Keep entries narrow, so they cannot hide a bug of another kind.
"""


def _tensors(case):
    """Every tensor spec among the case's arguments."""
    out = []

    def visit(v):
        if isinstance(v, dict):
            if "t" in v:
                out.append(v["t"])
            elif "tl" in v:
                out.extend(v["tl"])
        elif isinstance(v, list):
            for x in v:
                visit(x)

    for v in case["args"]:
        visit(v)
    for v in case.get("kwargs", {}).values():
        visit(v)
    return out


def _op(case):
    return case["op"]


KNOWN = []


def known(reason):
    """Registers the decorated predicate(case, verdict) -> bool with its reason."""
    def register(predicate):
        KNOWN.append((predicate, reason))
        return predicate
    return register


def known_difference(case, verdict):
    """The reason this difference is deliberate, or None."""
    for predicate, reason in KNOWN:
        try:
            if predicate(case, verdict):
                return reason
        except (KeyError, IndexError, TypeError):
            continue
    return None


# ---- the list ------------------------------------------------------------------------------

def _any_empty(case):
    return any(0 in t["shape"] for t in _tensors(case))


@known("switchyard checks an op's dtypes (and integer division by zero) whatever the size of "
       "its inputs; torch's kernels do not run on empty tensors, so there it accepts dtypes "
       "it refuses for any other size (softmax of an empty bool tensor, say)")
def _dtype_checks_on_empty_tensors(case, verdict):
    return verdict.get("raised") == "sy" and _any_empty(case) and \
        verdict["sy"].startswith(("TypeError", "ValueError: div", "ValueError: remainder"))


@known("out= takes any dtype the result can be cast to without losing its kind, for every op "
       "alike; some torch kernels (abs, neg, clamp, mm, bmm, addmm, ...) require the result's "
       "exact dtype")
def _out_dtype_is_uniform(case, verdict):
    outs = [v for v in case.get("kwargs", {}).values() if isinstance(v, dict) and "out" in v]
    return verdict.get("raised") == "torch" and any(o["out"] for o in outs) and \
        ("Found dtype" in verdict["torch"] or "Expected out tensor to have dtype" in verdict["torch"])


@known("topk takes bool tensors, as sort does in both libraries; torch 1.13's topk kernel has "
       "no bool variant")
def _topk_takes_bool(case, verdict):
    return _op(case) == "sy::topk" and verdict.get("raised") == "torch" and \
        "not implemented for 'Bool'" in verdict["torch"]


@known("logsumexp with dim=[] reduces over every dim, as sum and mean do; torch 1.13 raises "
       "\"output with shape [] doesn't match the broadcast shape\" for any input with a dim")
def _logsumexp_of_no_dims(case, verdict):
    return _op(case) == "sy::logsumexp" and verdict.get("raised") == "torch" and \
        "doesn't match the broadcast shape" in verdict["torch"]


@known("repeat_interleave with an int count gives a meta tensor its shape; torch 1.13 refuses "
       "any meta tensor without output_size")
def _repeat_interleave_on_meta(case, verdict):
    return _op(case).startswith("sy::repeat_interleave") and case.get("device") == "meta" and \
        verdict.get("raised") == "torch"
