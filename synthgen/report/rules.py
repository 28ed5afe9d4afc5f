"""The report's rules section: for each rule of the real table (found by discovery, or given in
the schema), the share of synthetic rows that break it, against the holdout's share.

Verdict per rule, on the excess of the synthetic share over the baseline (the holdout's share,
or without a holdout the real table's own exceptions): `fail` above `FAIL_EXCESS` with at least
`FAIL_ROWS` broken rows, `warn` above `WARN_EXCESS` with at least `WARN_ROWS`; the section takes
the worst. Real rows the model never saw pass (a rule that holds on the training rows breaks in a
handful of new rows at most), and a table where 5% of the rows break a rule fails.

Example:
    >>> import pandas as pd
    >>> from synthgen.schema import detect
    >>> start = [1.5 + i / 100 for i in range(100)]
    >>> ends = [s + d for s, d in zip(start, [0.5, 3.0, 0.25, 5.0] * 25)]
    >>> real = pd.DataFrame({"start": start, "end": ends})
    >>> schema = detect(real)
    >>> synth = real.assign(end=[1.0] * 10 + [9.5] * 90)
    >>> out = assess(real, synth, None, schema)
    >>> out["verdict"], out["checked"][0]["rule"], out["checked"][0]["synthetic_broken_share"]
    ('fail', 'start <= end', 0.1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthgen.rules.rows import Typed, broken_in

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.schema import Schema

#: A rule fails when the synthetic rows break it this much more often than the baseline...
FAIL_EXCESS = 0.02
#: ... in at least this many rows.
FAIL_ROWS = 5
#: A rule warns from this excess...
WARN_EXCESS = 0.005
#: ... in at least this many rows.
WARN_ROWS = 3
_RANK = {"pass": 0, "warn": 1, "fail": 2}


def assess(
    real: pd.DataFrame, synth: pd.DataFrame, holdout: pd.DataFrame | None, schema: Schema
) -> dict[str, Any]:
    """The section as JSON values: `verdict`, `reasons` and `checked[]` (see
    docs/report-schema.md)."""
    if not schema.rules:
        return {"verdict": "pass", "reasons": ["no rules found"], "checked": []}
    typed_real = Typed(real, schema)
    typed_synth = Typed(synth, schema)
    typed_holdout = Typed(holdout, schema) if holdout is not None else None
    checked, reasons = [], []
    for rule in schema.rules:
        bad = broken_in(rule, typed_synth, typed_real)
        share = float(bad.mean()) if len(bad) else 0.0
        holdout_share = (
            float(broken_in(rule, typed_holdout, typed_real).mean())
            if typed_holdout is not None and len(typed_holdout)
            else None
        )
        baseline = holdout_share if holdout_share is not None else 1 - rule.share
        verdict = _verdict(share - baseline, int(bad.sum()))
        if verdict != "pass":
            against = "holdout" if holdout_share is not None else "real"
            reasons.append(
                (
                    (-_RANK[verdict], len(reasons)),
                    f"{rule.text()}: broken in {share:.1%} of synthetic rows "
                    f"({int(bad.sum()):,}) against {baseline:.1%} of {against} rows",
                )
            )
        checked.append(
            {
                "rule": rule.text(),
                "kind": rule.kind,
                "columns": list(rule.columns),
                "synthetic_broken_share": share,
                "synthetic_broken_rows": int(bad.sum()),
                "holdout_broken_share": holdout_share,
                "real_share": rule.share,
                "verdict": verdict,
            }
        )
    worst = max((c["verdict"] for c in checked), key=_RANK.__getitem__)
    # failures first, then warnings, each in the rules' order
    return {"verdict": worst, "reasons": [r for _, r in sorted(reasons)], "checked": checked}


def _verdict(excess: float, rows: int) -> str:
    if excess > FAIL_EXCESS and rows >= FAIL_ROWS:
        return "fail"
    if excess > WARN_EXCESS and rows >= WARN_ROWS:
        return "warn"
    return "pass"
