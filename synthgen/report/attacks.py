"""Privacy measured by attack: what an attacker holding the synthetic rows learns about the
people in the training table, set against what the same attack learns about real people the
model never saw (the holdout).

- membership inference: the attacker calls a real row a member of the training table when a
  synthetic row lies close to it. Its AUC over equal numbers of training and holdout rows
  (distance to the closest synthetic row, in the report's encoded space) is about 0.5 when
  nothing leaks and 1 when the synthetic table is the training table; the interval is DeLong's.
- attribute inference: the attacker knows every column of a person but one secret category,
  finds the closest synthetic row on the known columns and reads its secret. The risk is the
  accuracy on training rows minus the accuracy on holdout rows (what the synthetic rows tell
  about the people in them beyond what they tell about anyone), with a 95% interval; training
  rows are weighted so that the secret's categories are as frequent as among the holdout rows,
  and the intervals hold for all the secret columns tried at once.

Both run on one pass over the synthetic rows. A verdict warns or fails when the lower end of a
figure's 95% interval passes a threshold (a leak shown, not a chance one); `findings` says why.

Example:
    >>> import numpy as np, pandas as pd
    >>> from synthgen.schema import detect
    >>> from synthgen.compare.values import prepare
    >>> from synthgen.report.space import Space
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(list("abc"), 3000)})
    >>> schema = detect(real)
    >>> train = prepare(real.iloc[:2000], schema, "real")
    >>> holdout = prepare(real.iloc[2000:], schema, like=train)
    >>> result = assess(train, train, holdout, Space(train))
    >>> mi = result["membership_inference"]
    >>> mi["verdict"], mi["auc"] > 0.9
    ('fail', True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

from synthgen.compare.values import Prepared
from synthgen.report.space import ZERO, Space

# Training and holdout rows attacked (each; the smaller table sets it), and the most synthetic
# rows searched (a larger synthetic table is subsampled, which weakens the attacks).
ATTACK_ROWS = 500
MAX_SYNTHETIC_ROWS = 40_000
# Fewer holdout rows than this and the attacks are not run (an interval would span everything).
MIN_ROWS = 20
# Secret columns tried by attribute inference: the categories with the most entropy.
MAX_SECRETS = 3
# The verdict warns or fails when the lower end of the 95% interval reaches these: membership
# AUC (0.5 when nothing leaks) and attribute-inference risk (0 when nothing leaks). On the lower
# end, so that a small holdout's chance make-up accuses no model (see docs/report-schema.md).
AUC_WARN, AUC_FAIL = 0.55, 0.65
RISK_WARN, RISK_FAIL = 0.05, 0.15
_Z95 = 1.959964
# Distances computed at once (a block of attacked rows times the synthetic rows), float32.
_BLOCK_CELLS = 1 << 21
_ORDER = {"pass": 0, "warn": 1, "fail": 2}


def not_checked(reason: str) -> dict[str, Any]:
    """Both attacks, marked not checked for `reason`."""
    return {
        "membership_inference": {"verdict": "not checked", "reason": reason},
        "attribute_inference": {"verdict": "not checked", "reason": reason, "columns": []},
    }


def assess(
    train: Prepared, synth: Prepared, holdout: Prepared, space: Space, seed: int = 0
) -> dict[str, Any]:
    """Membership and attribute inference against `synth`, training rows against holdout rows:
    each attack's figures and verdict (`findings` says why one warns or fails)."""
    n = min(train.n_rows, holdout.n_rows, ATTACK_ROWS)
    if n < MIN_ROWS or not synth.n_rows:
        return not_checked(
            f"the attacks need at least {MIN_ROWS} holdout rows and one synthetic row"
        )
    rng = np.random.default_rng(seed)
    rows_t = _sample(rng, train.n_rows, n)
    rows_h = _sample(rng, holdout.n_rows, n)
    rows_s = (
        np.arange(synth.n_rows)
        if synth.n_rows <= MAX_SYNTHETIC_ROWS
        else np.sort(rng.choice(synth.n_rows, MAX_SYNTHETIC_ROWS, replace=False))
    )
    queries = np.vstack([space.transform(train, rows_t), space.transform(holdout, rows_h)])
    reference = space.transform(synth, rows_s)
    secrets = secret_columns(train)
    blocks = _blocks(space)
    distance, guesses = closest(queries, reference, [blocks[name] for name in secrets])

    out: dict[str, Any] = {}
    mi = membership(distance[:n], distance[n:])
    mi["rows"] = {"training": n, "holdout": n, "synthetic": len(rows_s)}
    out["membership_inference"] = mi
    columns = []
    for name, guess in zip(secrets, guesses, strict=True):
        truth = np.concatenate([train[name].codes[rows_t], holdout[name].codes[rows_h]])
        found = synth[name].codes[rows_s][guess]
        # codes from K up are categories the training table lacks, numbered per table
        right = (found == truth) & (truth < len(train[name].categories))
        weights = _like(truth[:n], truth[n:])
        columns.append(
            {"column": name, **inference(right[:n], right[n:], weights, tried=len(secrets))}
        )
    ai: dict[str, Any] = {"verdict": "pass", "columns": columns}
    if not secrets:
        ai = {"verdict": "not checked", "reason": "no categorical column to guess", "columns": []}
    out["attribute_inference"] = ai
    _judge(out)
    return out


def _sample(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return np.arange(n) if n == k else np.sort(rng.choice(n, k, replace=False))


def secret_columns(train: Prepared, most: int = MAX_SECRETS) -> list[str]:
    """The categorical columns an attacker would most like to learn: the `most` with the most
    entropy in the training table (the hardest to guess blind), of two categories or more.

    Example:
        >>> import pandas as pd
        >>> from synthgen.schema import detect
        >>> from synthgen.compare.values import prepare
        >>> t = pd.DataFrame({"a": list("xy") * 50, "b": list("xyzw") * 25, "n": range(100)})
        >>> secret_columns(prepare(t, detect(t)))
        ['b', 'a']
    """
    scored = []
    for name, v in train.items():
        if v.codes is None or v.categories is None or len(v.categories) < 2:
            continue
        p = np.bincount(v.codes[v.codes >= 0]) / max(int((v.codes >= 0).sum()), 1)
        p = p[p > 0]
        scored.append((-float(-(p * np.log2(p)).sum()), name))
    return [name for _, name in sorted(scored)[:most]]


def _blocks(space: Space) -> dict[str, slice]:
    """Each column's axes in the encoded space."""
    out, at = {}, 0
    for column in space.columns:
        width = space._width(column)
        out[column[0]] = slice(at, at + width)
        at += width
    return out


def closest(
    queries: np.ndarray, reference: np.ndarray, hidden: list[slice]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per query: the distance to its closest reference row, and for each slice of axes in
    `hidden` (a category's one-hot axes), the index of the closest reference row on the other
    axes.

    Screened in float32 (a tie within rounding goes either way); the distance returned is the
    exact one to the row the screen picks, 0 for an exact copy.

    Example:
        >>> a = np.sqrt(0.5)  # a category's axis: two categories are 1 apart
        >>> ref = np.array([[0.0, 0.0, a], [1.0, a, 0.0]])
        >>> d, (i,) = closest(np.array([[1.0, 0.0, a]]), ref, [slice(1, 3)])
        >>> d.round(3).tolist(), i.tolist()
        ([1.0], [1])
    """
    ref32 = reference.astype(np.float32)
    ref_sq = np.einsum("ij,ij->i", ref32, ref32)
    # a one-hot block adds |q_s|^2 + |r_s|^2 - 2 q_s r_s to a squared distance, and 2 q_s r_s is
    # 1 where q and r share the category: left out, |r_s|^2 goes and the 1 comes back
    shares = [
        (_axis(queries[:, s]), _axis(reference[:, s], -2), (ref32[:, s] ** 2).sum(axis=1))
        for s in hidden
    ]
    distance = np.empty(len(queries))
    picks = [np.empty(len(queries), dtype=np.int64) for _ in hidden]
    block = max(1, _BLOCK_CELLS // max(len(reference), 1))
    for start in range(0, len(queries), block):
        chunk = queries[start : start + block]
        rows = slice(start, start + len(chunk))
        # |q|^2 is the same along a row: the closest row minimises |r|^2 - 2qr
        full = (-2.0 * chunk.astype(np.float32)) @ ref32.T
        full += ref_sq
        best = np.argmin(full, axis=1)
        exact = np.sqrt(((chunk - reference[best]) ** 2).sum(axis=1))
        distance[rows] = np.where(exact < ZERO, 0.0, exact)
        for (axis_q, axis_r, hidden_sq), pick in zip(shares, picks, strict=True):
            other = np.subtract(full, hidden_sq)
            other += np.equal(axis_q[rows, None], axis_r[None, :])
            pick[rows] = np.argmin(other, axis=1)
    return distance, picks


def _axis(block: np.ndarray, none: int = -1) -> np.ndarray:
    """The axis each row sits on in a one-hot block, `none` at the origin."""
    return np.where(block.any(axis=1), block.argmax(axis=1), none)


def membership(d_train: np.ndarray, d_holdout: np.ndarray) -> dict[str, Any]:
    """The AUC of telling training rows from holdout rows by a closer synthetic row (ties
    half), with DeLong's 95% interval.

    Example:
        >>> membership(np.array([0.0, 0.1, 0.2]), np.array([0.3, 0.4, 0.5]))["auc"]
        1.0
    """
    h = np.sort(d_holdout)
    t = np.sort(d_train)
    # placement values: how many of the other group each row beats (ties half)
    beats_h = (len(h) - np.searchsorted(h, d_train, "right")) + 0.5 * (
        np.searchsorted(h, d_train, "right") - np.searchsorted(h, d_train, "left")
    )
    beaten_t = np.searchsorted(t, d_holdout, "left") + 0.5 * (
        np.searchsorted(t, d_holdout, "right") - np.searchsorted(t, d_holdout, "left")
    )
    v_t, v_h = beats_h / len(h), beaten_t / len(t)
    auc = float(v_t.mean())
    se = float(np.sqrt(v_t.var(ddof=1) / len(t) + v_h.var(ddof=1) / len(h)))
    return {
        "auc": auc,
        "interval": [max(0.0, auc - _Z95 * se), min(1.0, auc + _Z95 * se)],
    }


def _like(train_codes: np.ndarray, holdout_codes: np.ndarray) -> np.ndarray:
    """Weights of the training rows that make each secret category as frequent among them as
    among the holdout rows: a holdout richer by chance in a category that is hard to guess would
    otherwise pass for a leak.

    Example:
        >>> _like(np.array([0, 0, 0, 1]), np.array([0, 1])).tolist()
        [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    keys, inverse = np.unique(np.concatenate([train_codes, holdout_codes]), return_inverse=True)
    in_train = np.bincount(inverse[: len(train_codes)], minlength=len(keys)) / len(train_codes)
    in_holdout = np.bincount(inverse[len(train_codes) :], minlength=len(keys)) / len(holdout_codes)
    return (in_holdout / np.maximum(in_train, 1e-12))[inverse[: len(train_codes)]]


def inference(
    right_train: np.ndarray,
    right_holdout: np.ndarray,
    weights: np.ndarray | None = None,
    tried: int = 1,
) -> dict[str, Any]:
    """Risk: the accuracy on training rows (weighted by `weights`) minus on holdout rows, with
    an interval (normal approximation of two independent proportions) that holds at 95% for
    all of the `tried` secret columns at once (Bonferroni), since any one of them can warn.

    Example:
        >>> right = np.array([True] * 80 + [False] * 20)
        >>> inference(right, np.array([True] * 50 + [False] * 50))["risk"]
        0.3
    """
    w = np.ones(len(right_train)) if weights is None else weights
    p_t, p_h = float(np.average(right_train, weights=w)), float(right_holdout.mean())
    var_t = float((w**2 * (right_train - p_t) ** 2).sum() / w.sum() ** 2)
    se = float(np.sqrt(var_t + p_h * (1 - p_h) / len(right_holdout)))
    z = float(ndtri(1 - 0.025 / tried))
    risk = p_t - p_h
    return {
        "risk": round(risk, 12),
        "interval": [risk - z * se, risk + z * se],
        "training_accuracy": p_t,
        "holdout_accuracy": p_h,
    }


def _judge(out: dict[str, Any]) -> None:
    mi, ai = out["membership_inference"], out["attribute_inference"]
    mi["verdict"] = _verdict(mi["interval"][0], AUC_WARN, AUC_FAIL)
    for c in ai["columns"]:
        c["verdict"] = _verdict(c["interval"][0], RISK_WARN, RISK_FAIL)
        ai["verdict"] = max(ai["verdict"], c["verdict"], key=_ORDER.__getitem__)


def _verdict(low: float, warn: float, fail: float) -> str:
    return "fail" if low >= fail else "warn" if low >= warn else "pass"


def findings(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(verdict, reason) for each attack that warns or fails, in words."""
    out = []
    mi = result["membership_inference"]
    if mi["verdict"] in ("warn", "fail"):
        low, high = mi["interval"]
        out.append(
            (
                mi["verdict"],
                f"membership inference: an attacker holding the synthetic rows tells training "
                f"rows from holdout rows with AUC {mi['auc']:.2f} (95% interval {low:.2f} to "
                f"{high:.2f}; 0.5 when nothing leaks) by how close a synthetic row lies: the "
                "model reproduces the people it was trained on; train it for fewer epochs, or "
                "on more rows",
            )
        )
    for c in result["attribute_inference"]["columns"]:
        if c["verdict"] in ("warn", "fail"):
            low, high = c["interval"]
            out.append(
                (
                    c["verdict"],
                    f"attribute inference: knowing a training row's other columns, the closest "
                    f"synthetic row gives its {c['column']!r} right "
                    f"{c['training_accuracy']:.0%} of the time, against "
                    f"{c['holdout_accuracy']:.0%} for holdout rows (risk {c['risk']:+.2f}, 95% "
                    f"interval {low:+.2f} to {high:+.2f}): the synthetic rows give away "
                    "the people in the training table",
                )
            )
    return out
