"""Privacy: do the synthetic rows give away the training rows?

Four checks, and two attacks (`synthgen.report.attacks`: membership and attribute inference),
each set against what real rows the model never saw (the holdout) do:

- distance to the closest training record (DCR), in the report's encoded space: the share of
  synthetic rows closer to the training table than a holdout row is (a Mann-Whitney comparison of
  the two DCR distributions; 0.5 when the synthetic rows sit no closer than new real rows would);
- exact copies: synthetic rows equal to a training row on every compared column;
- the nearest-neighbour distance ratio (NNDR, closest over second closest training row): a low
  ratio means a row sits next to one training row in particular;
- rare values (seen in fewer rows than the rare threshold) that the synthetic table writes
  verbatim.

Without a holdout the distance checks have no baseline; exact copies are then set against how
often training rows repeat each other.

Example:
    >>> import numpy as np, pandas as pd
    >>> from synthgen.schema import detect
    >>> from synthgen.compare.values import prepare
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(list("abc"), 3000)})
    >>> schema = detect(real)
    >>> train = prepare(real.iloc[:2000], schema, "real")
    >>> holdout = prepare(real.iloc[2000:], schema, like=train)
    >>> copy = prepare(real.iloc[:1000], schema, like=train)
    >>> assess(train, copy, holdout)["verdict"]
    'fail'
    >>> assess(train, holdout)["verdict"]  # no holdout: the distances are not checked
    'not checked'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns import KINDS
from synthgen.columns.base import protected_bounds
from synthgen.compare.values import RARE_ROWS, Prepared
from synthgen.errors import option
from synthgen.report import attacks
from synthgen.report.space import Space, nearest

# Rows queried against the training table (synthetic and holdout each), and the most training
# rows searched (a larger table is subsampled; exact copies are always checked against all).
QUERY_ROWS = 400
MAX_REFERENCE_ROWS = 40_000
# Share of synthetic rows closer to the training rows than holdout rows are (0.5 is healthy).
CLOSER_WARN, CLOSER_FAIL = 0.6, 0.75
# Exact copies of training rows, beyond the rate of the baseline.
COPIES_WARN, COPIES_FAIL = 0.01, 0.05
# Share of synthetic rows whose NNDR is below the holdout's 5th percentile (5% is healthy).
NNDR_WARN = 0.12

_ORDER = {"pass": 0, "warn": 1, "fail": 2}


def assess(
    train: Prepared,
    synth: Prepared,
    holdout: Prepared | None = None,
    space: Space | None = None,
    *,
    text: dict[str, tuple[pd.Series, pd.Series]] | None = None,
    rare_rows: int = RARE_ROWS,
    seed: int = 0,
) -> dict[str, Any]:
    """The verdict (`pass`, `warn`, `fail`, or `not checked` where the distance checks had no
    holdout and the other checks found nothing), its reasons, and the figures behind it. `text`
    maps free-text columns to their (training, synthetic) values, for the rare-values check."""
    space = space or Space(train)
    out: dict[str, Any] = {"verdict": "pass", "reasons": [], "notes": [], "dcr": None, "nndr": None}
    out["exact_copies"] = exact_copies(train, synth, holdout)
    out["rare_values"] = rare_values(train, synth, holdout, text or {}, rare_rows)
    out["rare_values"].setdefault("holdout_share", None)
    out["extreme_values"] = extreme_values(train, synth, holdout, rare_rows)
    if holdout is not None and holdout.n_rows and synth.n_rows:
        out["dcr"], out["nndr"] = distances(train, synth, holdout, space, seed)
        out.update(attacks.assess(train, synth, holdout, space, seed))
    else:
        out["notes"].append(
            "no holdout, so no distance checks (DCR, NNDR) and no attacks (membership and "
            f"attribute inference): pass {option('--holdout', 'holdout=')} with real rows the "
            "model did not see"
        )
        out.update(attacks.not_checked("no holdout"))
    _judge(out)
    _note_extremes(out)
    for verdict, reason in attacks.findings(out):
        _flag(out, verdict, reason)
    if out["dcr"] is None and out["verdict"] == "pass":
        out["verdict"] = "not checked"  # a pass would claim distances nobody measured
    return out


def text_cells(
    real: pd.DataFrame, synth: pd.DataFrame, schema: Any
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """The free-text columns (checked cell by cell for rare values) of `schema`, each as its
    (training, synthetic) values: `assess`'s `text`.

    Example:
        >>> import pandas as pd
        >>> from synthgen.schema import detect
        >>> real = pd.DataFrame({"x": [1.0, 2.0] * 10})
        >>> text_cells(real, real, detect(real))
        {}
    """
    return {
        c.name: (real[c.name], synth[c.name])
        for c in schema.columns
        if KINDS[c.kind].rare_check == "cells" and c.name in synth.columns
    }


def _flag(out: dict[str, Any], verdict: str, reason: str) -> None:
    out["verdict"] = max(out["verdict"], verdict, key=_ORDER.__getitem__)
    out["reasons"].append(reason)


def _judge(out: dict[str, Any]) -> None:
    copies = out["exact_copies"]
    excess = copies["synthetic_share"] - copies["baseline_share"]
    if excess >= COPIES_WARN:
        _flag(
            out,
            "fail" if excess >= COPIES_FAIL else "warn",
            f"{copies['synthetic_share']:.1%} of synthetic rows ({copies['synthetic_rows']:,}) "
            f"are exact copies of training rows, against {copies['baseline_share']:.1%} for "
            f"{copies['baseline']}: the model reproduces training rows; train it for fewer "
            "epochs, or on more rows",
        )
    dcr = out["dcr"]
    if dcr is not None:
        share = dcr["closer_share"]
        if share >= CLOSER_WARN:
            _flag(
                out,
                "fail" if share >= CLOSER_FAIL else "warn",
                f"{share:.0%} of synthetic rows are closer to the training rows than holdout "
                f"rows are (50% is healthy; median distance {dcr['synthetic']['median']:.3f} "
                f"against {dcr['holdout']['median']:.3f}): the model stays near the rows it "
                "was trained on",
            )
        nndr = out["nndr"]
        if nndr["below_holdout_p05"] >= NNDR_WARN:
            _flag(
                out,
                "warn",
                f"{nndr['below_holdout_p05']:.0%} of synthetic rows sit next to one training "
                "row in particular (nearest-neighbour distance ratio below the 5th percentile "
                "of holdout rows; 5% is healthy)",
            )
    rare = out["rare_values"]
    leaked = [c for c in rare["columns"] if c["values"]]
    # a holdout carries rare training values too (rare in the sample is not rare in people):
    # only more than the holdout does is a sign of copying
    if leaked and rare["synthetic_share"] > (rare["holdout_share"] or 0.0):
        shown = ", ".join(
            f"{c['column']!r} ({c['values']} values, {c['rows']} rows)" for c in leaked[:5]
        )
        than = (
            "" if rare["holdout_share"] is None else f" (holdout rows: {rare['holdout_share']:.1%})"
        )
        _flag(
            out,
            "warn",
            f"{rare['synthetic_share']:.1%} of synthetic rows carry values seen in fewer than "
            f"{rare['rare_rows']} training rows{than}: {shown}; such values can single out a "
            f"person (synthgen's models pool them; see {option('--rare-threshold', 'rare_threshold=')})",
        )


def _row_hashes(table: Prepared) -> np.ndarray:
    frame = pd.DataFrame({name: (v.x if v.codes is None else v.codes) for name, v in table.items()})
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def exact_copies(train: Prepared, synth: Prepared, holdout: Prepared | None) -> dict[str, Any]:
    """Synthetic rows equal to a training row on every compared column, with the baseline: the
    share of holdout rows equal to a training row, or without a holdout, of training rows equal
    to another training row. Without a compared column (a table of free text only) nothing is
    said to be a copy."""
    if not len(train) or not train.n_rows:
        return {
            "synthetic_rows": 0,
            "synthetic_share": 0.0,
            "baseline_share": 0.0,
            "baseline": "no column compared" if not len(train) else "no training row",
        }
    train_hashes = _row_hashes(train)
    seen = pd.Index(train_hashes).unique()
    in_train = seen.get_indexer(_row_hashes(synth)) >= 0 if synth.n_rows else np.zeros(0, bool)
    if holdout is not None and holdout.n_rows:
        baseline = float((seen.get_indexer(_row_hashes(holdout)) >= 0).mean())
        what = "holdout rows"
    else:
        baseline = float(pd.Series(train_hashes).duplicated(keep=False).mean())
        what = "training rows repeating another training row"
    return {
        "synthetic_rows": int(in_train.sum()),
        "synthetic_share": float(in_train.mean()) if len(in_train) else 0.0,
        "baseline_share": baseline,
        "baseline": what,
    }


def rare_values(
    train: Prepared,
    synth: Prepared,
    holdout: Prepared | None,
    text: dict[str, tuple[pd.Series, pd.Series]],
    rare_rows: int = RARE_ROWS,
) -> dict[str, Any]:
    """Per categorical or free-text column: how many training values seen in fewer than
    `rare_rows` rows the synthetic table writes verbatim, and in how many rows; the share of
    synthetic (and holdout) rows that carry any. The values themselves are not reported (the
    report may be shared)."""
    columns = []
    carries = np.zeros(synth.n_rows, dtype=bool)
    carries_h = np.zeros(holdout.n_rows if holdout is not None else 0, dtype=bool)
    for name, v in train.items():
        if v.codes is None or v.categories is None or KINDS[v.kind].rare_check != "codes":
            continue
        k = len(v.categories)
        rare = np.bincount(v.codes[v.codes >= 0], minlength=k) < rare_rows
        codes = synth[name].codes
        hit = (codes >= 0) & (codes < k)
        hit[hit] = rare[codes[hit]]
        carries |= hit
        if holdout is not None:
            h = holdout[name].codes
            hit_h = (h >= 0) & (h < k)
            hit_h[hit_h] = rare[h[hit_h]]
            carries_h |= hit_h
        columns.append(
            {"column": name, "values": int(len(np.unique(codes[hit]))), "rows": int(hit.sum())}
        )
    for name, (real_text, synth_text) in text.items():
        counts = real_text.dropna().astype(str).value_counts()
        rare_text = counts.index[counts < rare_rows]
        hit = synth_text.astype(object).where(synth_text.notna(), None).isin(rare_text)
        hit = hit.to_numpy(dtype=bool)
        carries[: len(hit)] |= hit
        columns.append(
            {"column": name, "values": int(synth_text[hit].nunique()), "rows": int(hit.sum())}
        )
    out = {
        "rare_rows": rare_rows,
        "columns": columns,
        "synthetic_share": float(carries.mean()) if len(carries) else 0.0,
    }
    if holdout is not None:
        out["holdout_share"] = float(carries_h.mean()) if len(carries_h) else 0.0
    return out


def extreme_values(
    train: Prepared, synth: Prepared, holdout: Prepared | None, rare_rows: int = RARE_ROWS
) -> dict[str, Any]:
    """Per number or date column: the rows that write a value beyond what `rare_rows` training
    rows reach (below the k-th smallest or above the k-th largest training value: among the few
    most extreme people's), synthetic and holdout. synthgen's models bound each such column
    there (`synthgen.columns.base.protected_bounds`); a column a rule computes from others
    (a total) may pass the bound, and so may a peer library's model.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from synthgen.schema import detect
        >>> from synthgen.compare.values import prepare
        >>> real = pd.DataFrame({"x": np.r_[np.arange(99.0), 1e6]})
        >>> train = prepare(real, detect(real), "real")
        >>> out = extreme_values(train, prepare(real.tail(10), detect(real), like=train), None)
        >>> out["columns"], out["synthetic_share"]
        ([{'column': 'x', 'rows': 4, 'holdout_rows': None}], 0.4)
    """
    columns = []
    carries = np.zeros(synth.n_rows, dtype=bool)
    carries_h = np.zeros(holdout.n_rows if holdout is not None else 0, dtype=bool)
    for name, v in train.items():
        if v.shape != "continuous":
            continue
        finite = v.x[np.isfinite(v.x)]
        if len(finite) < 2 * rare_rows - 1:
            continue  # every value is among the few: the bounds say nothing
        low, high = protected_bounds(finite, -np.inf, np.inf, rare_rows)
        x = synth[name].x
        beyond = (x < low) | (x > high)
        carries |= beyond
        entry = {"column": name, "rows": int(beyond.sum()), "holdout_rows": None}
        if holdout is not None:
            h = holdout[name].x
            beyond_h = (h < low) | (h > high)
            carries_h |= beyond_h
            entry["holdout_rows"] = int(beyond_h.sum())
        if entry["rows"]:
            columns.append(entry)
    return {
        "rare_rows": rare_rows,
        "columns": columns,
        "synthetic_share": float(carries.mean()) if len(carries) else 0.0,
        "holdout_share": (float(carries_h.mean()) if len(carries_h) else 0.0)
        if holdout is not None
        else None,
    }


def _note_extremes(out: dict[str, Any]) -> None:
    """A note (not a verdict: new real rows lie beyond too) naming the columns whose synthetic
    values pass the bounds `rare_rows` training rows reach."""
    ext = out["extreme_values"]
    if not ext["columns"]:
        return
    shown = ", ".join(
        f"{c['column']!r} ({c['rows']} row{'' if c['rows'] == 1 else 's'})"
        for c in ext["columns"][:5]
    )
    than = "" if ext["holdout_share"] is None else f" (holdout rows: {ext['holdout_share']:.1%})"
    out["notes"].append(
        f"{ext['synthetic_share']:.1%} of synthetic rows hold a number or date beyond what "
        f"{ext['rare_rows']} training rows reach{than}: {shown}; such a value lies among the "
        "few most extreme real rows' (synthgen's models bound the columns they learn there)"
    )


def distances(
    train: Prepared, synth: Prepared, holdout: Prepared, space: Space, seed: int = 0
) -> tuple[dict[str, Any], dict[str, Any]]:
    """DCR and NNDR of (subsampled) synthetic and holdout rows against the training rows."""
    rng = np.random.default_rng(seed)
    reference_rows = _subsample(rng, train.n_rows, MAX_REFERENCE_ROWS)
    reference = space.transform(train, reference_rows)
    near_s = nearest(
        space.transform(synth, _subsample(rng, synth.n_rows, QUERY_ROWS)), reference, 2
    )
    near_h = nearest(
        space.transform(holdout, _subsample(rng, holdout.n_rows, QUERY_ROWS)), reference, 2
    )
    d_s, d_h = near_s[:, 0], near_h[:, 0]
    dcr = {
        "rows": {"synthetic": len(d_s), "holdout": len(d_h), "training": len(reference)},
        "closer_share": closer_share(d_s, d_h),
        "synthetic": _summary(d_s),
        "holdout": _summary(d_h),
        "histogram": _histogram(d_s, d_h),
    }
    r_s, r_h = _ratio(near_s), _ratio(near_h)
    p05 = float(np.quantile(r_h, 0.05))
    nndr = {
        "synthetic_median": float(np.median(r_s)),
        "holdout_median": float(np.median(r_h)),
        "holdout_p05": p05,
        "below_holdout_p05": float((r_s < p05).mean()),
    }
    return dcr, nndr


def _subsample(rng: np.random.Generator, n: int, most: int) -> np.ndarray:
    return np.arange(n) if n <= most else np.sort(rng.choice(n, most, replace=False))


def closer_share(d_synth: np.ndarray, d_holdout: np.ndarray) -> float:
    """P(a synthetic row's DCR < a holdout row's DCR), ties counted half.

    Example:
        >>> closer_share(np.array([0.0, 0.0]), np.array([1.0, 2.0]))
        1.0
    """
    h = np.sort(d_holdout)
    below = np.searchsorted(h, d_synth, side="left")
    upto = np.searchsorted(h, d_synth, side="right")
    # a synthetic row is closer than every holdout row with a larger distance
    return float(np.mean((len(h) - upto + 0.5 * (upto - below)) / len(h)))


def _ratio(near: np.ndarray) -> np.ndarray:
    """Closest over second closest distance; 1 where both are 0 (a row repeated in training)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = near[:, 0] / near[:, 1]
    return np.where(near[:, 1] == 0, 1.0, ratio)


def _summary(d: np.ndarray) -> dict[str, float]:
    return {
        "median": float(np.median(d)),
        "p05": float(np.quantile(d, 0.05)),
        "zero_share": float((d == 0).mean()),
    }


def _histogram(d_s: np.ndarray, d_h: np.ndarray, bins: int = 30) -> dict[str, list[float]]:
    top = float(np.quantile(np.concatenate([d_s, d_h]), 0.99)) or 1.0
    edges = np.linspace(0.0, top, bins + 1)
    return {
        "edges": edges.tolist(),
        "synthetic": (np.histogram(np.minimum(d_s, top), edges)[0] / len(d_s)).tolist(),
        "holdout": (np.histogram(np.minimum(d_h, top), edges)[0] / len(d_h)).tolist(),
    }
