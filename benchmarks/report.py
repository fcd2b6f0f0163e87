#!/usr/bin/python3
"""Summarises Google Benchmark results: switchyard next to libtorch, checked against targets.

usage: report.py [RESULTS_DIR] [--targets FILE] [--write-readme] [--libtorch-version V]
                 [--chart FILE | --no-chart]

RESULTS_DIR (default build/release/bench) holds one JSON file per benchmark program, as
written by `./dev bench` (--benchmark_out_format=json, 5 repetitions, aggregates only).
Each benchmark's median real time is taken and normalised to nanoseconds. Benchmarks named
`<case>/switchyard` and `<case>/libtorch` form a pair whose ratio is switchyard / libtorch
(lower is better for times); any other benchmark stands alone.

The script prints a markdown table of every pair, every target and every other benchmark,
then a line `targets: N met, N missed, N unmeasured`. It exits 0 whether or not targets are
met (it is a report); it exits 1 when there are no results and 2 when targets.json is bad.
It draws a chart of the ratios (benchmarks/ratios.png, if matplotlib is installed) and,
with --write-readme, rewrites benchmarks/README.md, keeping everything from its
`## Notes` heading on.

targets.json is a JSON list of targets (or an object whose "targets" holds that list).
Every target has a "kind", a "what" (a short description, shown in the table), an optional
"issue" (a number, shown next to the target) and a bound: "max" and/or "min" (for "ratio"
and "pair") or "max_ns" and/or "min_ns" (for "absolute"). Bounds are inclusive.

  {"kind": "ratio", "case": "TypedTensorCall", "max": 0.5, "what": "..."}
      median(<case>/switchyard) / median(<case>/libtorch) must be <= max (and >= min).
  {"kind": "absolute", "case": "RegisterLibrary", "benchmark": "BM_Reg.../manual_time",
   "max_ns": 2e7, "what": "..."}
      median(benchmark) must be <= max_ns (and >= min_ns). "benchmark" defaults to
      <case>/switchyard.
  {"kind": "pair", "case": "Fallthrough", "base": "BM_X:0", "other": "BM_X:1",
   "max": 1.10, "what": "..."}
      median(other) / median(base) must be <= max (and >= min): switchyard against itself.

"min" is there for throughput-style targets, where a higher ratio is the better one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "benchmarks"
DEFAULT_RESULTS = Path("build/release/bench")
IMPLS = ("switchyard", "libtorch")
NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
NOTES_HEADING = re.compile(r"^##\s+Notes\s*$", re.MULTILINE)

MET, MISSED, NO_LIBTORCH, UNMEASURED = "met", "missed", "no libtorch", "unmeasured"
VERDICT_TEXT = {
    MET: "✅ yes",
    MISSED: "❌ no",
    NO_LIBTORCH: "no libtorch in this run",
    UNMEASURED: "not measured",
}


class TargetsError(Exception):
    pass


# --- results ------------------------------------------------------------------------------


@dataclass
class Results:
    medians: dict[str, float] = field(default_factory=dict)  # benchmark name -> ns
    order: list[str] = field(default_factory=list)  # names in the order first seen
    repetitions: set[int] = field(default_factory=set)
    contexts: list[dict] = field(default_factory=list)

    def get(self, name: str | None) -> float | None:
        return None if name is None else self.medians.get(name)


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def load_results(folder: Path) -> Results:
    """Median real time (ns) of every benchmark in folder/*.json.

    Uses the "median" aggregate when there is one; for a run without repetitions it falls
    back to the median of the plain iteration entries.
    """
    res = Results()
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            print(f"warning: skipping {path}: {e}", file=sys.stderr)
            continue
        if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
            print(f"warning: skipping {path}: not a Google Benchmark JSON file", file=sys.stderr)
            continue
        res.contexts.append(data.get("context", {}))
        medians: dict[str, float] = {}
        iterations: dict[str, list[float]] = {}
        for b in data["benchmarks"]:
            if b.get("error_occurred"):
                print(f"warning: {b.get('name')}: {b.get('error_message', 'error')}",
                      file=sys.stderr)
                continue
            name = b.get("run_name", b.get("name"))
            try:
                ns = float(b["real_time"]) * NS_PER_UNIT[b.get("time_unit", "ns")]
            except (KeyError, TypeError, ValueError):
                continue
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    medians[name] = ns
                    if "repetitions" in b:
                        res.repetitions.add(int(b["repetitions"]))
            else:
                iterations.setdefault(name, []).append(ns)
        for name, values in iterations.items():
            if name not in medians:
                medians[name] = _median(values)
                res.repetitions.add(len(values))
        for name, ns in medians.items():
            if name in res.medians:
                print(f"warning: {name} appears in several files; using {path.name}",
                      file=sys.stderr)
            else:
                res.order.append(name)
            res.medians[name] = ns
    return res


def split_impl(name: str) -> tuple[str, str] | None:
    """'Case/switchyard' -> ('Case', 'switchyard'); 'Case/libtorch/64' -> ('Case/64', ...)."""
    parts = name.split("/")
    for i, part in enumerate(parts):
        if part in IMPLS:
            return "/".join(parts[:i] + parts[i + 1:]), part
    return None


# --- targets ------------------------------------------------------------------------------


@dataclass
class Target:
    kind: str
    case: str
    what: str
    issue: int | str | None
    lo: float | None  # inclusive bounds: ratios, or ns for "absolute"
    hi: float | None
    benchmark: str | None = None  # absolute
    base: str | None = None  # pair
    other: str | None = None  # pair


def load_targets(path: Path) -> list[Target]:
    if not path.exists():
        print(f"note: no {path}, so no targets", file=sys.stderr)
        return []
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise TargetsError(f"{path}: {e}") from e
    if isinstance(raw, dict):
        raw = raw.get("targets")
    if not isinstance(raw, list):
        raise TargetsError(f"{path}: expected a list of targets (or {{\"targets\": [...]}})")
    targets = []
    for i, t in enumerate(raw):
        where = f"{path}: target {i + 1}"
        if not isinstance(t, dict):
            raise TargetsError(f"{where}: expected an object")
        kind, case = t.get("kind"), t.get("case")
        if kind not in ("ratio", "absolute", "pair"):
            raise TargetsError(f"{where}: kind must be ratio, absolute or pair, not {kind!r}")
        if not isinstance(case, str) or not case:
            raise TargetsError(f"{where}: needs a \"case\"")
        lo_key, hi_key = ("min_ns", "max_ns") if kind == "absolute" else ("min", "max")
        unknown = set(t) - {"kind", "case", "what", "issue", lo_key, hi_key,
                            "benchmark", "base", "other"}
        if unknown:
            raise TargetsError(f"{where} ({case}): unknown keys {sorted(unknown)}")
        bounds = []
        for key in (lo_key, hi_key):
            v = t.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                                  or not v > 0):
                raise TargetsError(f"{where} ({case}): {key} must be a positive number")
            bounds.append(None if v is None else float(v))
        if bounds == [None, None]:
            raise TargetsError(f"{where} ({case}): needs {hi_key} and/or {lo_key}")
        target = Target(kind=kind, case=case, what=str(t.get("what", "")), issue=t.get("issue"),
                        lo=bounds[0], hi=bounds[1])
        if kind == "absolute":
            target.benchmark = t.get("benchmark") or f"{case}/switchyard"
        elif kind == "pair":
            target.base, target.other = t.get("base"), t.get("other")
            if not (isinstance(target.base, str) and isinstance(target.other, str)):
                raise TargetsError(f"{where} ({case}): a pair needs \"base\" and \"other\"")
        targets.append(target)
    return targets


def within(value: float, t: Target) -> bool:
    return (t.lo is None or value >= t.lo) and (t.hi is None or value <= t.hi)


# --- formatting ---------------------------------------------------------------------------


def fmt_time(ns: float | None) -> str:
    if ns is None:
        return "n/a"
    ns = float(f"{ns:.3g}")  # so that 999.7 ns shows as 1.00 µs
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{_sig3(ns / scale)} {unit}"
    return f"{_sig3(ns)} ns"


def _sig3(x: float) -> str:
    """Three significant figures, without an exponent: 0.393, 7.94, 30.2, 412."""
    if x == 0:
        return "0"
    decimals = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{decimals}f}"


def fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{_sig3(r) if r < 0.1 else f'{r:.2f}'}×"


def fmt_bound(t: Target) -> str:
    def show(x: float) -> str:  # 20 ms rather than 20.0 ms, 0.5× rather than 0.50×
        text = fmt_time(x) if t.kind == "absolute" else fmt_ratio(x)
        return re.sub(r"^(\d+)\.(\d*?)0+(?=\D)", lambda m: m[1] + ("." + m[2] if m[2] else ""),
                      text)
    parts = []
    if t.lo is not None:
        parts.append(f"≥ {show(t.lo)}")
    if t.hi is not None:
        parts.append(f"≤ {show(t.hi)}")
    text = ", ".join(parts)
    if t.issue is not None:
        text += f" (#{t.issue})" if isinstance(t.issue, int) else f" ({t.issue})"
    return text


@dataclass
class Row:
    case: str
    what: str
    sy: str
    lt: str
    ratio: float | None
    target: str = "—"
    verdict: str | None = None  # one of MET..UNMEASURED, or None without a target
    chart: str | None = None  # "vs libtorch" or "self" when the row belongs on the chart
    target_ratio: list[float] = field(default_factory=list)  # bounds to mark on the chart


def build_rows(res: Results, targets: list[Target]) -> list[Row]:
    pairs: dict[str, dict[str, str]] = {}
    for name in res.order:
        split = split_impl(name)
        if split:
            pairs.setdefault(split[0], {})[split[1]] = name
    used: set[str] = set()
    rows: list[Row] = []

    def pair_row(case: str, what: str) -> Row:
        names = pairs.get(case, {})
        used.update(names.values())
        sy, lt = res.get(names.get("switchyard")), res.get(names.get("libtorch"))
        ratio = sy / lt if sy is not None and lt is not None else None
        return Row(case, what, fmt_time(sy), fmt_time(lt), ratio,
                   chart="vs libtorch" if ratio is not None else None)

    for t in targets:
        if t.kind == "ratio":
            row = pair_row(t.case, t.what)
            names = pairs.get(t.case, {})
            if row.ratio is not None:
                row.verdict = MET if within(row.ratio, t) else MISSED
            elif "switchyard" in names and "libtorch" not in names:
                row.verdict = NO_LIBTORCH
            else:
                row.verdict = UNMEASURED
            row.target_ratio = [b for b in (t.lo, t.hi) if b is not None]
        elif t.kind == "absolute":
            ns = res.get(t.benchmark)
            used.add(t.benchmark)
            lt_name = None
            split = split_impl(t.benchmark)
            if split and split[1] == "switchyard":
                lt_name = pairs.get(split[0], {}).get("libtorch")
                if lt_name:
                    used.add(lt_name)
            lt = res.get(lt_name)
            ratio = ns / lt if ns is not None and lt is not None else None
            row = Row(t.case, t.what, fmt_time(ns), fmt_time(lt), ratio,
                      chart="vs libtorch" if ratio is not None else None)
            row.verdict = UNMEASURED if ns is None else MET if within(ns, t) else MISSED
        else:  # pair: switchyard against itself
            base, other = res.get(t.base), res.get(t.other)
            used.update((t.base, t.other))
            ratio = other / base if base is not None and other is not None else None
            row = Row(t.case, t.what, f"{fmt_time(other)} vs {fmt_time(base)}", "n/a", ratio,
                      chart="self" if ratio is not None else None,
                      target_ratio=[b for b in (t.lo, t.hi) if b is not None])
            row.verdict = UNMEASURED if ratio is None else MET if within(ratio, t) else MISSED
        row.target = fmt_bound(t)
        rows.append(row)

    # Whatever no target mentions: the remaining pairs, then single benchmarks.
    for case, names in pairs.items():
        if not set(names.values()) & used:
            rows.append(pair_row(case, ""))
    for name in res.order:
        if name not in used:
            rows.append(Row(name, "", fmt_time(res.get(name)), "n/a", None))
    return rows


def markdown_table(rows: list[Row]) -> str:
    head = ["case", "what", "switchyard (median)", "libtorch (median)", "ratio", "target",
            "met?"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 2 + ["--:"] * 3 +
                                                           ["---"] * 2) + "|"]
    for r in rows:
        cells = [f"`{r.case}`" if "/" in r.case else r.case, r.what, r.sy, r.lt,
                 fmt_ratio(r.ratio), r.target, VERDICT_TEXT.get(r.verdict, "—")]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def summary_line(rows: list[Row]) -> str:
    verdicts = [r.verdict for r in rows if r.verdict is not None]
    met, missed = verdicts.count(MET), verdicts.count(MISSED)
    return f"targets: {met} met, {missed} missed, {len(verdicts) - met - missed} unmeasured"


# --- machine ------------------------------------------------------------------------------


def _run(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def cpu_model() -> str:
    out = _run(["lscpu"]) or ""
    models = [line.split(":", 1)[1].strip() for line in out.splitlines()
              if line.lower().startswith("model name:")]
    return " + ".join(dict.fromkeys(models)) or "unknown CPU"


def cpu_count() -> str:
    n = _run(["nproc"])
    if n is None:
        try:
            n = str(len(os.sched_getaffinity(0)))
        except (AttributeError, OSError):
            n = str(os.cpu_count() or "?")
    return n


def libtorch_version(given: str | None) -> str | None:
    if given:
        return given
    out = _run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"])
    return out.splitlines()[-1] if out else None


# --- chart --------------------------------------------------------------------------------


def draw_chart(rows: list[Row], path: Path, today: str) -> bool:
    plotted = [r for r in rows if r.chart == "vs libtorch" and r.ratio and r.ratio > 0]
    plotted += [r for r in rows if r.chart == "self" and r.ratio and r.ratio > 0]
    if not plotted:
        print(f"chart: nothing to plot (no ratios in this run), {path} left alone")
        return False
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        from matplotlib.ticker import FixedLocator, NullLocator
    except ImportError:
        print(f"chart: matplotlib is not installed (apt install python3-matplotlib), "
              f"{path} not drawn")
        return False

    lead, trail, self_colour = "#2a9d5c", "#d1495b", "#8d99ae"
    labels, ratios, colours = [], [], []
    for r in plotted:
        labels.append(r.case if r.chart == "vs libtorch" else f"{r.case}\n(switchyard only)")
        ratios.append(r.ratio)
        colours.append(self_colour if r.chart == "self" else lead if r.ratio < 1 else trail)
    bounds = [b for r in plotted for b in r.target_ratio]
    lo = min(ratios + bounds + [1.0]) / 1.8
    hi = max(ratios + bounds + [1.0]) * 1.8

    fig, ax = plt.subplots(figsize=(8, 4), dpi=120)
    y = list(range(len(plotted)))[::-1]  # first row on top
    ax.barh(y, [r - 1 for r in ratios], left=1, height=0.6, color=colours, zorder=2)
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.6, len(plotted) - 0.4)
    ax.axvline(1.0, color="black", linewidth=1.2, zorder=3)
    n_self = sum(r.chart == "self" for r in plotted)
    if 0 < n_self < len(plotted):  # a rule between the libtorch rows and the others
        ax.axhline(n_self - 0.5, color="#999999", linewidth=0.8, linestyle=":", zorder=1)
    for yi, r in zip(y, plotted):
        for b in r.target_ratio:
            ax.plot([b, b], [yi - 0.38, yi + 0.38], color="black", linewidth=2.2,
                    linestyle=(0, (2, 1)), zorder=4)
        right = r.ratio >= 1
        ax.annotate(fmt_ratio(r.ratio), (r.ratio, yi), xytext=(4 if right else -4, 0),
                    textcoords="offset points", va="center", ha="left" if right else "right",
                    fontsize=9, fontweight="bold", zorder=5)
    ax.set_yticks(y, labels, fontsize=9)
    ticks = [2.0 ** k for k in range(math.floor(math.log2(lo)), math.ceil(math.log2(hi)) + 1)]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{t:g}×" if t >= 1 else f"1/{1 / t:g}×" for t in ticks], fontsize=8)
    ax.set_xlabel("switchyard / libtorch, median time (log scale; left of 1× = switchyard "
                  "faster)", fontsize=9)
    ax.grid(axis="x", color="#dddddd", zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"switchyard vs libtorch, median times, {today}", fontsize=11, pad=22)
    handles = [Patch(color=lead, label="switchyard faster"),
               Patch(color=trail, label="switchyard slower")]
    if any(r.chart == "self" for r in plotted):
        handles.append(Patch(color=self_colour, label="switchyard only (other / base)"))
    if bounds:
        handles.append(Line2D([], [], color="black", linewidth=2.2, linestyle=(0, (2, 1)),
                              label="target"))
    ax.legend(handles=handles, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=len(handles), frameon=False, handlelength=1.6, columnspacing=1.2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    print(f"chart: {path}")
    return True


# --- README -------------------------------------------------------------------------------


def write_readme(path: Path, table: str, summary: str, res: Results,
                 torch_version: str | None, chart: Path | None, today: str) -> None:
    reps = sorted(res.repetitions)
    reps_text = (f"{reps[0]} repetitions" if len(reps) == 1
                 else f"{'/'.join(map(str, reps))} repetitions" if reps else "repetitions")
    has_libtorch = any(split_impl(n) and split_impl(n)[1] == "libtorch" for n in res.order)
    machine = f"{cpu_model()}, {cpu_count()} CPUs (`nproc`)"
    loads = [c["load_avg"][0] for c in res.contexts if c.get("load_avg")]
    if loads:
        machine += f", load average {max(loads):.2f} when the run started"
    if has_libtorch:
        lt = f"libtorch: {torch_version or 'version unknown'}"
    else:
        lt = "libtorch: not in this run (not installed), so no ratios against it"

    parts = [
        "# Benchmarks",
        "",
        "The dispatcher's hot paths (typed and boxed operator calls, dispatch-key guards, "
        "calls through fallthrough keys) and the registration of a large library, timed with "
        "Google Benchmark. Where libtorch is installed, each case also runs against libtorch's "
        "counterpart, side by side in the same process. `./dev bench` builds the release tree, "
        f"runs every `bench_*` program with {reps_text} and prints this report "
        "(`benchmarks/report.py`); the figures are medians of real time. ratio = switchyard / "
        "libtorch, so for times lower is better and below 1× switchyard is faster. Rows "
        "without a libtorch figure time switchyard alone: a pair such as Fallthrough compares "
        "two switchyard benchmarks (ratio = first figure / second). The targets come from "
        "`benchmarks/targets.json`.",
        "",
        f"- Machine: {machine}",
        f"- {lt}",
        f"- Date: {today}",
        "",
        table,
        "",
        summary,
        "",
    ]
    if chart is not None:
        rel = os.path.relpath(chart, path.parent)
        parts += [f"![switchyard / libtorch ratios]({Path(rel).as_posix()})", ""]
    text = "\n".join(parts)
    if path.exists():
        old = path.read_text()
        m = NOTES_HEADING.search(old)
        if m:
            text += "\n" + old[m.start():].rstrip("\n") + "\n"
    path.write_text(text)
    print(f"readme: {path}")


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="?", type=Path, default=DEFAULT_RESULTS,
                    help="folder of Google Benchmark JSON files (default %(default)s)")
    ap.add_argument("--targets", type=Path, default=BENCH_DIR / "targets.json",
                    help="targets file (default benchmarks/targets.json)")
    ap.add_argument("--write-readme", action="store_true",
                    help="rewrite benchmarks/README.md, keeping its '## Notes' section")
    ap.add_argument("--libtorch-version", help="libtorch version to show in the README "
                    "(default: torch.__version__ from /usr/bin/python3)")
    ap.add_argument("--chart", type=Path, default=BENCH_DIR / "ratios.png",
                    help="where to draw the chart (default benchmarks/ratios.png)")
    ap.add_argument("--no-chart", action="store_true", help="do not draw the chart")
    args = ap.parse_args(argv)

    try:
        sys.stdout.reconfigure(errors="replace")
    except AttributeError:
        pass

    folder = args.results
    if not folder.is_dir() and not folder.is_absolute() and (REPO / folder).is_dir():
        folder = REPO / folder
    res = load_results(folder) if folder.is_dir() else Results()
    if not res.medians:
        print(f"error: no benchmark results in {folder}/*.json (run ./dev bench)",
              file=sys.stderr)
        return 1
    try:
        targets = load_targets(args.targets)
    except TargetsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    today = datetime.date.today().isoformat()
    rows = build_rows(res, targets)
    table = markdown_table(rows)
    summary = summary_line(rows)
    print()
    print(table)
    print()
    chart = None
    if not args.no_chart and draw_chart(rows, args.chart, today):
        chart = args.chart
    if args.write_readme:
        write_readme(BENCH_DIR / "README.md", table, summary, res,
                     libtorch_version(args.libtorch_version), chart, today)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
