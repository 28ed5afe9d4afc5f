"""Mode collapse: does the synthetic table cover the variety of the real one, or only part of it?

Evidence, per column: categories (or values of a few-valued number) that disappeared or shrank
to a fraction of their real share; modes of a numeric distribution that the synthetic values
lack; a squeezed range; a column that comes out (nearly) constant. Over the whole table: rows
repeated inside the synthetic table beyond what the real table repeats, and precision / recall /
density / coverage on k-nearest-neighbour balls (Naeem et al. 2020, "Reliable Fidelity and
Diversity Metrics for Generative Models", k = 5) in the report's encoded space, each set against
the same figure for two disjoint halves of the real table, so that a threshold means the same on
every table.

Example:
    >>> import numpy as np, pandas as pd
    >>> from synthgen.schema import detect
    >>> from synthgen.compare.values import prepare
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"c": rng.choice(list("abcd"), 2000), "x": rng.normal(size=2000)})
    >>> schema = detect(real)
    >>> few = real.iloc[[0, 1, 2] * 400].reset_index(drop=True)  # 3 rows, repeated
    >>> assess(prepare(real, schema), prepare(few, schema))["verdict"]
    'collapsed'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import protected_bounds
from synthgen.compare.values import RARE_ROWS, Prepared, Values
from synthgen.report.space import Space, nearest, pairwise_blocks

K = 5
# Rows per side for the nearest-neighbour figures (real reference, real comparison, synthetic).
PRDC_ROWS = 1500
# A region (category, value or mode) is judged only when it holds this share of the real rows
# and the synthetic table is large enough to expect this many rows in it.
MIN_SHARE = 0.05
MIN_EXPECTED = 10
# A region is lost when its synthetic share is below this fraction of its real share.
LOST_FRACTION = 0.25
# Share of lost real rows (summed over lost regions) that makes a column suspected / collapsed.
LOST_SUSPECTED, LOST_COLLAPSED = 0.05, 0.4
# Width of the central 98% of synthetic values over the real one.
SQUEEZE_SUSPECTED, SQUEEZE_COLLAPSED = 0.5, 0.2
# A synthetic column whose most frequent value has this share is near-constant (if the real
# column's most frequent value holds at most NEAR_CONSTANT_REAL).
NEAR_CONSTANT, NEAR_CONSTANT_REAL = 0.98, 0.9
# Synthetic duplicate rows beyond the real table's rate (same number of rows).
DUPLICATES_SUSPECTED, DUPLICATES_COLLAPSED = 0.05, 0.3
# Recall and coverage of the synthetic rows as a share of the real-vs-real figures. Coverage
# also falls when the synthetic rows are merely less faithful (a Gaussian copula reaches ~0.65 of
# the baseline on mixed tables), so its thresholds are lower; recall falls only when whole parts
# of the real table have no synthetic rows near them.
RECALL_SUSPECTED, RECALL_COLLAPSED = 0.75, 0.5
COVERAGE_SUSPECTED, COVERAGE_COLLAPSED = 0.45, 0.25
# Collapse's own signature: realistic rows (precision near the baseline) that cover under half of
# what real rows cover.
SIGNATURE_PRECISION, SIGNATURE_COVERAGE = 0.8, 0.5
# Numbers with at most this many distinct real values are judged value by value.
FEW_VALUES = 20

_ORDER = {"none": 0, "suspected": 1, "collapsed": 2}


def _worst(*verdicts: str) -> str:
    return max(verdicts, key=_ORDER.__getitem__, default="none")


def assess(
    real: Prepared,
    synth: Prepared,
    space: Space | None = None,
    seed: int = 0,
    rare_rows: int = RARE_ROWS,
) -> dict[str, Any]:
    """The verdict (`none`, `suspected`, `collapsed`, or `not checked` when no column can be
    compared), its reasons, and the evidence. A category fewer than `rare_rows` real rows hold
    is never written (for privacy), so a column's variety is judged on the others: its loss
    is no collapse."""
    columns = [_column(real[name], synth[name], rare_rows) for name in real]
    duplicates = duplicate_rates(real, synth, seed)
    prdc = prdc_against_baseline(real, synth, space or Space(real), seed)
    reasons: list[str] = []
    verdicts = ["none"]
    for col in columns:
        verdicts.append(col["verdict"])
        reasons.extend(col["reasons"])
    verdicts.append(duplicates["verdict"])
    reasons.extend(duplicates["reasons"])
    verdicts.append(prdc["verdict"])
    reasons.extend(prdc["reasons"])
    notes = [] if columns else ["no column to compare (keys and free text are not compared)"]
    return {
        "verdict": _worst(*verdicts) if columns else "not checked",
        "reasons": reasons,
        "notes": notes,
        "columns": columns,
        "duplicates": duplicates,
        "prdc": prdc,
    }


# --------------------------------------------------------------------------------------------
# Columns


def _column(real: Values, synth: Values, rare_rows: int = RARE_ROWS) -> dict[str, Any]:
    out: dict[str, Any] = {
        "column": real.name,
        "kind": real.kind,
        "verdict": "none",
        "reasons": [],
        "top_share": None,
        "regions": [],
        "range_ratio": None,
        "lost_share": 0.0,
    }
    r_missing, s_missing = real.missing, synth.missing
    if real.shape == "discrete":  # the categories a model may write: rare ones are not
        held = real.codes[~r_missing]
        r_missing = r_missing.copy()
        r_missing[~r_missing] = np.bincount(held)[held] < rare_rows
    if r_missing.all():  # (great_tables' peeps: 25 of 100 rows in 19 provinces, 18 rare)
        return out
    if s_missing.all():
        return _flag(
            out,
            "collapsed",
            f"column {real.name!r}: every synthetic value is missing "
            f"(the real column has {1 - r_missing.mean():.0%} values)",
        )
    if real.shape == "discrete":
        r, s = real.codes[~r_missing], synth.codes[~s_missing]
    else:
        r, s = real.x[~r_missing], synth.x[~s_missing]
    top_r, top_s = _top_share(r), _top_share(s)
    out["top_share"] = {"real": top_r[1], "synthetic": top_s[1]}
    if top_s[1] >= NEAR_CONSTANT and top_r[1] <= NEAR_CONSTANT_REAL:
        value = _name(real, synth, r, top_s[0])
        what = (
            f"every synthetic value is {value}"
            if top_s[1] == 1
            else (f"{top_s[1]:.0%} of synthetic values are {value}")
        )
        _flag(
            out,
            "collapsed",
            f"column {real.name!r}: {what}, where the real column's most "
            f"frequent value holds {top_r[1]:.0%}; the generator ignores this column's variety",
        )
    if real.shape == "continuous":
        few = len(np.unique(r)) <= FEW_VALUES
        out["regions"] = _compare_regions(_value_regions(r) if few else _mode_regions(r), r, s)
        if not few:  # a few-valued number's span is its values' (judged one by one, above):
            # a 0/1 column's central 98% held 1 or not as its share of 1s crossed 1% (survival's
            # cgd: 2.5% real, 1.0% synthetic, 2 rows of 203, read as collapsed)
            _squeeze(out, real.name, r, s, rare_rows)
    else:
        out["regions"] = _category_regions(real, r, s)
    _lost(out, real, out["regions"])
    return out


def _flag(out: dict[str, Any], verdict: str, reason: str) -> dict[str, Any]:
    out["verdict"] = _worst(out["verdict"], verdict)
    out["reasons"].append(reason)
    return out


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _key(v: Values, code: Any) -> Any:
    """The value behind a discrete code (or the value itself for a continuous column)."""
    if v.shape == "continuous":
        return code
    assert v.categories is not None
    if code < len(v.categories):
        return _plain(v.categories[code])
    return _plain(v.x[np.flatnonzero(v.codes == code)[0]])


def _name(real: Values, synth: Values, r: np.ndarray, top: Any) -> str:
    """How a reason names a synthetic value: as it is, unless it is rare or unknown in the real
    table (the report may be shared; a rare value can single out a person)."""
    if real.shape == "discrete":
        assert real.categories is not None
        if top >= len(real.categories):
            return "a value the real table does not have"
        if (r == top).sum() < RARE_ROWS:
            return f"a value seen in fewer than {RARE_ROWS} real rows"
    return _show(_key(synth, top))


def _top_share(x: np.ndarray) -> tuple[Any, float]:
    if np.issubdtype(x.dtype, np.signedinteger):
        counts = np.bincount(x)
        top = int(np.argmax(counts))
        return top, float(counts[top] / len(x))
    values, counts = np.unique(x, return_counts=True)
    top = int(np.argmax(counts))
    return float(values[top]), float(counts[top] / len(x))


def _category_regions(real: Values, r: np.ndarray, s: np.ndarray) -> list[dict[str, Any]]:
    assert real.categories is not None
    k = len(real.categories)
    real_share = np.bincount(r, minlength=k)[:k] / len(r)
    synth_share = np.bincount(s, minlength=k)[:k] / max(len(s), 1)
    return [
        {
            "value": _plain(real.categories[i]),
            "real_share": float(real_share[i]),
            "synthetic_share": float(synth_share[i]),
        }
        for i in range(k)
        if real_share[i] >= MIN_SHARE and real_share[i] * len(s) >= MIN_EXPECTED
    ]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _value_regions(r: np.ndarray) -> list[tuple[float, float]]:
    """One region per distinct value, split halfway to its neighbours."""
    values = np.unique(r)
    mids = (values[1:] + values[:-1]) / 2
    edges = np.concatenate([[-np.inf], mids, [np.inf]])
    return list(zip(edges[:-1], edges[1:]))


def _mode_regions(r: np.ndarray, bins: int = 64) -> list[tuple[float, float]]:
    """The real distribution's modes, as intervals split at the valleys between them: peaks of
    a smoothed histogram of the central 99% of values, merged unless the valley between two
    falls below half the lower peak."""
    lo, hi = np.quantile(r, [0.005, 0.995])
    if hi <= lo:
        return [(-np.inf, np.inf)]
    counts, edges = np.histogram(r, bins=bins, range=(lo, hi))
    kernel = np.exp(-0.5 * (np.arange(-4, 5) / 1.5) ** 2)
    smooth = np.convolve(counts, kernel / kernel.sum(), mode="same")
    peaks = [
        i
        for i in range(bins)
        if smooth[i] > 0
        and smooth[i] >= smooth[max(i - 1, 0)]
        and smooth[i] > smooth[min(i + 1, bins - 1)]
    ]
    cuts: list[float] = []
    kept = peaks[:1]
    for p in peaks[1:]:
        valley = kept[-1] + int(np.argmin(smooth[kept[-1] : p + 1]))
        if smooth[valley] < 0.5 * min(smooth[kept[-1]], smooth[p]):
            cuts.append(float(edges[valley] + edges[valley + 1]) / 2)
            kept.append(p)
        elif smooth[p] > smooth[kept[-1]]:
            kept[-1] = p
    bounds = [-np.inf, *cuts, np.inf]
    return list(zip(bounds[:-1], bounds[1:]))


def _compare_regions(
    regions: list[tuple[float, float]], r: np.ndarray, s: np.ndarray
) -> list[dict[str, Any]]:
    out = []
    for lo, hi in regions:
        p = float(((r > lo) & (r <= hi)).mean())
        if p < MIN_SHARE or p * len(s) < MIN_EXPECTED:
            continue
        q = float(((s > lo) & (s <= hi)).mean()) if len(s) else 0.0
        inside = r[(r > lo) & (r <= hi)]
        out.append(
            {
                "low": float(inside.min()),
                "high": float(inside.max()),
                "real_share": p,
                "synthetic_share": q,
            }
        )
    return out if len(out) > 1 or len(regions) > 1 else []


def _lost(out: dict[str, Any], real: Values, regions: list[dict[str, Any]]) -> None:
    lost = [g for g in regions if g["synthetic_share"] < LOST_FRACTION * g["real_share"]]
    mass = sum(g["real_share"] for g in lost)
    out["lost_share"] = mass
    if mass < LOST_SUSPECTED:
        return
    verdict = "collapsed" if mass >= LOST_COLLAPSED else "suspected"
    shown = ", ".join(_region_text(g) for g in lost[:4]) + (" ..." if len(lost) > 4 else "")
    if real.shape == "discrete":
        noun = "category" if len(lost) == 1 else "categories"
    else:
        noun = "value" if all(g["low"] == g["high"] for g in lost) else "mode"
        noun += "s" if len(lost) > 1 else ""
    _flag(
        out,
        verdict,
        f"column {real.name!r}: {len(lost)} real {noun} ({mass:.0%} of the "
        f"real rows) missing or shrunk in the synthetic table: {shown}",
    )


def _region_text(g: dict[str, Any]) -> str:
    if "value" in g:
        where = _show(g["value"])
    elif g["low"] == g["high"]:
        where = f"{g['low']:g}"
    else:
        where = f"{g['low']:g} to {g['high']:g}"
    return f"{where} ({g['real_share']:.0%} real, {g['synthetic_share']:.1%} synthetic)"


def _squeeze(
    out: dict[str, Any], name: str, r: np.ndarray, s: np.ndarray, rare_rows: int = RARE_ROWS
) -> None:
    # the real span within what `rare_rows` rows reach: a model writes nothing past it (on a
    # small table the 1st and 99th percentiles lie among the few most extreme values)
    low, high = protected_bounds(r, -np.inf, np.inf, rare_rows)
    rq = np.clip(np.quantile(r, [0.01, 0.99]), low, high)
    sq = np.quantile(s, [0.01, 0.99])
    width = rq[1] - rq[0]
    if width <= 0:
        return
    ratio = float((sq[1] - sq[0]) / width)
    out["range_ratio"] = ratio
    if ratio < SQUEEZE_SUSPECTED:
        verdict = "collapsed" if ratio < SQUEEZE_COLLAPSED else "suspected"
        _flag(
            out,
            verdict,
            f"column {name!r}: the central 98% of synthetic values spans "
            f"{ratio:.0%} of the real span ({sq[0]:g} to {sq[1]:g} against "
            f"{rq[0]:g} to {rq[1]:g})",
        )


# --------------------------------------------------------------------------------------------
# The whole table


def _row_hashes(table: Prepared, rows: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame(
        {name: (v.x if v.codes is None else v.codes)[rows] for name, v in table.items()}
    )
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def duplicate_rates(real: Prepared, synth: Prepared, seed: int = 0) -> dict[str, Any]:
    """Share of synthetic rows that repeat another synthetic row, against the same share in as
    many real rows (the rate grows with the number of rows, so the sizes are matched)."""
    n = min(real.n_rows, synth.n_rows)
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {
        "rows": n,
        "verdict": "none",
        "reasons": [],
        "real_rate": None,
        "synthetic_rate": None,
        "synthetic_distinct": None,
    }
    if n < 2 or not len(real):
        return out
    r = _row_hashes(real, np.sort(rng.choice(real.n_rows, n, replace=False)))
    s = _row_hashes(synth, np.sort(rng.choice(synth.n_rows, n, replace=False)))
    real_rate = float(pd.Series(r).duplicated().mean())
    synth_rate = float(pd.Series(s).duplicated().mean())
    distinct = int(pd.Series(s).nunique())
    out.update(
        {"real_rate": real_rate, "synthetic_rate": synth_rate, "synthetic_distinct": distinct}
    )
    excess = synth_rate - real_rate
    if excess >= DUPLICATES_SUSPECTED and synth_rate > 2 * real_rate:
        out["verdict"] = "collapsed" if excess >= DUPLICATES_COLLAPSED else "suspected"
        out["reasons"].append(
            f"{synth_rate:.0%} of synthetic rows repeat another synthetic row ({distinct:,} "
            f"distinct rows in {n:,}); {real_rate:.1%} of as many real rows do"
        )
    return out


def prdc(
    real: np.ndarray, fake: np.ndarray, k: int = K, real_radii: np.ndarray | None = None
) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake` against `real` (points in rows),
    one block of rows at a time. A point on a ball's edge counts as inside (exact copies are
    common in tables, and a ball of radius 0 must hold its duplicates)."""
    r_real = nearest(None, real, k)[:, -1] if real_radii is None else real_radii
    r_fake = nearest(None, fake, k)[:, -1]
    inside_any = np.zeros(len(fake), dtype=bool)
    inside_count = np.zeros(len(fake))
    closest = np.full(len(real), np.inf)
    recalled = np.zeros(len(real), dtype=bool)
    for start, dist in pairwise_blocks(fake, real):
        inside = dist <= r_real[None, :]
        inside_any[start : start + len(dist)] = inside.any(axis=1)
        inside_count[start : start + len(dist)] = inside.sum(axis=1)
        np.minimum(closest, dist.min(axis=0), out=closest)
        recalled |= (dist <= r_fake[start : start + len(dist), None]).any(axis=0)
    return {
        "precision": float(inside_any.mean()),
        "recall": float(recalled.mean()),
        "density": float(inside_count.sum() / (k * len(fake))),
        "coverage": float((closest <= r_real).mean()),
    }


def prdc_against_baseline(
    real: Prepared, synth: Prepared, space: Space, seed: int = 0
) -> dict[str, Any]:
    """PRDC of the synthetic rows against half the real rows, and of the other half (the
    baseline a perfect generator would reach), with as many rows on each side."""
    n = min(PRDC_ROWS, real.n_rows // 2, synth.n_rows)
    out: dict[str, Any] = {
        "k": K,
        "rows": n,
        "verdict": "none",
        "reasons": [],
        "synthetic": None,
        "real_baseline": None,
        "ratio": None,
    }
    if n <= 2 * K:
        out["reasons"].append(f"too few rows ({n}) for the nearest-neighbour figures")
        return out
    rng = np.random.default_rng(seed)
    order = rng.permutation(real.n_rows)
    reference = space.transform(real, np.sort(order[:n]))
    holdout = space.transform(real, np.sort(order[n : 2 * n]))
    fake = space.transform(synth, np.sort(rng.choice(synth.n_rows, n, replace=False)))
    radii = nearest(None, reference, K)[:, -1]
    base = prdc(reference, holdout, K, radii)
    ours = prdc(reference, fake, K, radii)
    ratio = {m: (ours[m] / base[m] if base[m] > 0 else float("nan")) for m in ours}
    out.update({"synthetic": ours, "real_baseline": base, "ratio": ratio})
    recall = float(np.nan_to_num(ratio["recall"], nan=1.0))
    coverage = float(np.nan_to_num(ratio["coverage"], nan=1.0))
    precision = float(np.nan_to_num(ratio["precision"], nan=1.0))
    signature = precision >= SIGNATURE_PRECISION and coverage < SIGNATURE_COVERAGE
    if recall < RECALL_COLLAPSED or coverage < COVERAGE_COLLAPSED or signature:
        out["verdict"] = "collapsed"
    elif recall < RECALL_SUSPECTED or coverage < COVERAGE_SUSPECTED:
        out["verdict"] = "suspected"
    if out["verdict"] != "none":
        out["reasons"].append(
            "the synthetic rows reach only part of the real table: "
            + ", ".join(f"{m} {ours[m]:.2f} vs {base[m]:.2f}" for m in ours)
            + f" for real rows against real rows (k={K}, {n:,} rows each)"
        )
    return out
