"""The quality report: fidelity, mode collapse, privacy, the real table's rules and (with a
target) utility of a synthetic table against the real one, with verdicts a person can act on.

`build` computes it; the `Report` it returns renders to the terminal, JSON (keys documented in
docs/report-schema.md) and one self-contained HTML file, and says whether quality gates pass.

Example:
    >>> import synthgen
    >>> from synthgen.report import build
    >>> real = synthgen.read_table("sample_data/penguins.csv")      # doctest: +SKIP
    >>> synth = synthgen.fit(real, seed=0).sample(len(real), seed=0)  # doctest: +SKIP
    >>> report = build(real, synth)                                  # doctest: +SKIP
    >>> report.score, report.mode_collapse["verdict"], report.privacy["verdict"]  # doctest: +SKIP
    (0.87, 'none', 'pass')
"""

from __future__ import annotations

import json
import math
import sys
import time
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.errors import GateFailed, InputError, UsageError, option
from synthgen.schema import Schema, detect

if TYPE_CHECKING:
    from rich.console import Console

    from synthgen.models.base import Synthesizer

#: Version of the report's JSON layout; raised when a key changes meaning or goes away (2: a
#: verdict that could not be computed is `not checked`, where version 1 said `pass`).
FORMAT_VERSION = 2
#: The checks `--fail-on` accepts.
GATES = ("collapse", "privacy", "rules")
#: Past this many column pairs (200 columns make 19,900), `fidelity.column_pair_trends` lists
#: only the pairs that count, the weakest first, and no more than this many of them.
LISTED_PAIRS = 20_000


@dataclass
class Report:
    """A built report. Sections are plain dicts (JSON values), as in `to_dict()`."""

    score: float
    fidelity: dict[str, Any]
    mode_collapse: dict[str, Any]
    privacy: dict[str, Any]
    utility: dict[str, Any] | None
    tables: dict[str, Any]
    model: dict[str, Any] | None = None
    seconds: float = 0.0
    charts: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Everything, as JSON values (NaN becomes None)."""
        from synthgen._version import __version__

        return _clean(
            {
                "format": "synthgen-report",
                "version": FORMAT_VERSION,
                "synthgen_version": __version__,
                "score": self.score,
                "fidelity": self.fidelity,
                "mode_collapse": self.mode_collapse,
                "privacy": self.privacy,
                "rules": self.rules,
                "utility": self.utility,
                "tables": self.tables,
                "model": self.model,
                "seconds": self.seconds,
                "charts": self.charts,
            }
        )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_html(self) -> str:
        """One self-contained HTML page (inline SVG, no script or request leaves the file)."""
        from synthgen.report.render import html

        return html(self.to_dict())

    def render(self, console: Console, outputs: Iterable[str] = ()) -> None:
        """A one-screen summary; `outputs` lists where the full detail went."""
        from synthgen.report.render import terminal

        terminal(self.to_dict(), console, list(outputs))

    def gate_failures(
        self, fail_under: float | None = None, fail_on: Iterable[str] = ()
    ) -> list[str]:
        """Why the gates fail (empty when they pass): the score below `fail_under`, a
        `collapsed` verdict when `fail_on` has "collapse", a privacy `fail` when it has
        "privacy", a rules `fail` when it has "rules". A gate on what could not be checked
        fails too, saying what was missing (privacy without a holdout): a gate passes only on
        evidence."""
        failures = []
        if fail_under is not None and not (self.score >= fail_under):
            shown = "not computable" if math.isnan(self.score) else f"{self.score:.3f}"
            gate = option("--fail-under ", "fail_under=")
            failures.append(f"score {shown} is below {gate}{fail_under:g}")
        gates = check_gates(fail_on)
        collapse, privacy = self.mode_collapse, self.privacy
        if "collapse" in gates and collapse["verdict"] == "collapsed":
            failures.append("mode collapse: " + _first(collapse["reasons"]))
        elif "collapse" in gates and collapse["verdict"] == "not checked":
            failures.append("mode collapse not checked: " + _first(collapse.get("notes", [])))
        if "privacy" in gates and privacy["verdict"] == "fail":
            failures.append("privacy: " + _first(privacy["reasons"]))
        elif "privacy" in gates and privacy.get("dcr") is None:
            failures.append("privacy not checked: " + _first(privacy["notes"]))
        if "rules" in gates and self.rules.get("verdict") == "fail":
            failures.append("rules: " + _first(self.rules["reasons"]))
        return failures

    def exit_code(self, fail_under: float | None = None, fail_on: Iterable[str] = ()) -> int:
        """0 when the gates pass, else `GateFailed.exit_code` (1)."""
        return GateFailed.exit_code if self.gate_failures(fail_under, fail_on) else 0

    def check(self, fail_under: float | None = None, fail_on: Iterable[str] = ()) -> None:
        """Raise `GateFailed` (one line) when a gate fails."""
        failures = self.gate_failures(fail_under, fail_on)
        if failures:
            raise GateFailed("quality gate failed: " + "; ".join(failures))


def _first(reasons: list[str]) -> str:
    return reasons[0] if reasons else "see the report"


def check_gates(fail_on: Iterable[str] | str) -> set[str]:
    """The gate names in `fail_on` (a list, or one comma-separated string), checked."""
    if isinstance(fail_on, str):
        fail_on = [fail_on]
    gates = {g.strip().lower() for item in fail_on for g in item.split(",") if g.strip()}
    unknown = gates - set(GATES)
    if unknown:
        raise UsageError(
            f"unknown {option('--fail-on', 'fail_on')} check(s) {sorted(unknown)}; use "
            f"{', '.join(GATES)} (comma separated)"
        )
    return gates


def _clean(value: Any) -> Any:
    """JSON values: NaN and infinities become None, numpy scalars plain Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def build(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    *,
    schema: Schema | None = None,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    model: Synthesizer | None = None,
    seed: int = 0,
) -> Report:
    """The report of `synth` against `real` (the rows the model was trained on).

    Tables may be text frames as `synthgen.read_table` gives them or typed frames (a model's
    `.sample()`). `schema` defaults to the model's, else to `detect(real)`. `holdout` (real rows
    the model never saw) is the baseline of the privacy distances and the test set of utility;
    `target` adds utility. Subsamples are drawn with `seed`, so a report is reproducible.
    """
    from synthgen.compare.values import RARE_ROWS, compared_columns, prepare
    from synthgen.report import collapse, fidelity, privacy, render, rules, utility
    from synthgen.report.space import Space

    started = time.perf_counter()
    if schema is None:
        schema = model.schema_ if model is not None else detect(real)
    for name, table in (("real", real), ("synthetic", synth), ("holdout", holdout)):
        if table is not None and len(table) == 0:
            raise InputError(f"the {name} table has no rows")
    if target is not None and target not in schema.names:
        asked = option(f"--target {target!r}", f"target={target!r}")
        raise UsageError(f"{asked} is not a column of the real table")
    with utility.one_thread():
        ref = fidelity.Reference(real, schema)
        s = ref.prepare(synth)
        h = None
        if holdout is not None:
            h = prepare(holdout, schema, "holdout", like=ref.real)
        shapes = ref.column_shapes(s)
        trends, listed, chart_pairs, pairs_listed = _pair_trends(ref, s)
        summary = fidelity.summarize(shapes, trends)
        space = Space(ref.real)
        text = privacy.text_cells(real, synth, schema)
        rare_rows = model.rare_threshold if model is not None else RARE_ROWS
        fidelity_out = {
            "score": summary["score"],
            "column_shapes_score": summary["column_shapes"],
            "column_pair_trends_score": summary["column_pair_trends"],
            "column_pair_trends_on_real_range": ref.pair_trends_on_real_range(s),
            "column_shapes": shapes,
            "column_pair_trends": listed,
            "column_pair_trends_listed": pairs_listed,
            "detection": {
                **fidelity.detection(ref.real, s, seed),
                "unwritten_rare": fidelity.unwritten_rare(ref.real, s, rare_rows),
                "rare_rows": rare_rows,
            },
            "ignored_columns": [
                {"column": c.name, "kind": c.kind}
                for c in schema.columns
                if c not in compared_columns(schema)
            ],
        }
        collapse_out = collapse.assess(ref.real, s, space, seed, rare_rows)
        privacy_out = privacy.assess(
            ref.real, s, h, space, text=text, rare_rows=rare_rows, seed=seed
        )
        privacy_out["guarantee"] = model.guarantee() if model is not None else None
        utility_out = utility.assess(ref.real, s, target, h, seed) if target else None
        rules_out = rules.assess(real, synth, holdout, schema)
        charts = render.chart_data(ref.real, s, schema, chart_pairs)
    tables = {
        "real": {"rows": len(real), "columns": len(real.columns)},
        "synthetic": {"rows": len(synth), "columns": len(synth.columns)},
        "holdout": None if holdout is None else {"rows": len(holdout)},
        "compared_columns": list(ref.real),
    }
    return Report(
        score=summary["score"],
        fidelity=fidelity_out,
        mode_collapse=collapse_out,
        privacy=privacy_out,
        utility=utility_out,
        tables=tables,
        model=_model_facts(model),
        seconds=time.perf_counter() - started,
        charts=charts,
        rules=rules_out,
    )


def _pair_trends(ref: Any, s: Any) -> tuple[Any, list, list, dict[str, Any]]:
    """Every pair's trend scores; the pairs the report lists (all of them up to `LISTED_PAIRS`,
    past that the counted ones, weakest first: 2,000 columns make 2 million pairs, a JSON file
    of half a gigabyte); the heatmap's pairs; and what was listed."""
    from synthgen.report.render import HEATMAP_COLUMNS

    i, j = ref.pair_positions()
    heatmap = (i < HEATMAP_COLUMNS) & (j < HEATMAP_COLUMNS)
    every = len(i) <= LISTED_PAIRS
    trends = ref.pair_trends(s, full=True if every else heatmap)
    which = range(len(i)) if every else trends.weakest_counted(LISTED_PAIRS)
    listed = trends.rows(which)
    chart_pairs = listed if every else trends.rows(np.flatnonzero(heatmap))
    facts = {
        "pairs": len(i),
        "counted": int(trends.counted.sum()),
        "listed": len(listed),
        "which": "all" if every else "weakest counted",
    }
    return trends, listed, chart_pairs, facts


def _model_facts(model: Synthesizer | None) -> dict[str, Any] | None:
    if model is None:
        return None
    facts: dict[str, Any] = {"name": model.name, "params": dict(model.params)}
    facts["rare_threshold"] = model.rare_threshold
    suppressed = model.encoder_.suppressed() if hasattr(model, "encoder_") else {}
    if suppressed:
        facts["suppressed"] = suppressed
    return facts


class _CallableModule(types.ModuleType):
    """`synthgen.report(real, synth)` is the top-level function, but importing this package
    binds `synthgen.report` to the package itself: calling the package builds the report, so
    both stay one thing."""

    def __call__(self, real: pd.DataFrame, synth: pd.DataFrame, **options: Any) -> Report:
        return build(real, synth, **options)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["FORMAT_VERSION", "GATES", "Report", "build", "check_gates"]
