"""Fidelity, as the report shows it: the score of columns and column pairs (from
`synthgen.compare.fidelity`, where models that stop on quality also read it) and the
classifier two-sample test.

Example:
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 5, "c": list("abab") * 5})
    >>> synth = pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0] * 5, "c": list("aaaa") * 5})
    >>> Reference(real).summary(synth)["column_shapes"]
    0.375
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.compare.fidelity import (
    REAL_ASSOCIATION_THRESHOLD,
    REAL_CORRELATION_THRESHOLD,
    Reference,
    column_pair_trends,
    column_shapes,
    quality_score,
    summarize,
)
from synthgen.compare.values import Prepared

__all__ = [
    "DETECTION_ROWS",
    "c2st",
    "REAL_ASSOCIATION_THRESHOLD",
    "REAL_CORRELATION_THRESHOLD",
    "Reference",
    "column_pair_trends",
    "column_shapes",
    "detection",
    "quality_score",
    "summarize",
]

# Rows per side the report's detection test reads, its folds, and the boosting it fits (small:
# the report runs in seconds; the benchmark's field protocol takes every row, 5 folds, defaults).
DETECTION_ROWS = 800
DETECTION_FOLDS = 3
DETECTION_BOOSTING = {"iterations": 30, "leaves": 15}
# Shuffles of each column on each held-out fold, averaged, for the giveaway columns.
GIVEAWAY_REPEATS = 3


def c2st(auc: float) -> float:
    """The detection test in the field's form: 2 x (1 - AUC), clipped to [0, 1] (1: the
    classifier cannot tell real from synthetic rows; 0: it always can).

    Example:
        >>> c2st(0.5), c2st(0.75), c2st(1.0), c2st(0.4)
        (1.0, 0.5, 0.0, 1.0)
    """
    return float(np.clip(2.0 * (1.0 - auc), 0.0, 1.0)) if np.isfinite(auc) else float("nan")


def detection(
    real: Prepared,
    synth: Prepared,
    seed: int = 0,
    *,
    rows: int | None = DETECTION_ROWS,
    folds: int = DETECTION_FOLDS,
    iterations: int = DETECTION_BOOSTING["iterations"],
    leaves: int = DETECTION_BOOSTING["leaves"],
    repeats: int = GIVEAWAY_REPEATS,
) -> dict[str, Any]:
    """How well a classifier tells real rows from synthetic ones, and which columns give the
    synthetic rows away.

    Gradient boosting (numbers as they are, few-valued categories split natively) is trained on
    `rows` rows of each side (None: every row of the smaller side) in `folds` stratified folds;
    `auc` is the mean held-out ROC AUC (0.5: it cannot tell them apart; 1: always), `c2st` the
    field's 2 x (1 - AUC). `giveaway_columns`: per column, the drop in held-out AUC when that
    column alone is shuffled across the held-out rows (permutation importance, `repeats`
    shuffles per fold, averaged over folds), largest first, columns that lose nothing left out:
    the columns to fix first. A column whose signal another column repeats loses less than it
    carries; shuffling costs one prediction per column, fold and repeat, never a refit.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from synthgen.compare.values import prepare
        >>> from synthgen.schema import detect
        >>> rng = np.random.default_rng(0)
        >>> real = pd.DataFrame({"x": rng.normal(size=800), "y": rng.normal(size=800)})
        >>> fake = pd.DataFrame({"x": rng.normal(size=800), "y": rng.normal(2, 1, size=800)})
        >>> schema = detect(real)
        >>> r = prepare(real, schema, "real")
        >>> out = detection(r, prepare(fake, schema, like=r))
        >>> out["auc"] > 0.8, out["c2st"] < 0.4, out["giveaway_columns"][0]["column"]
        (True, True, 'y')
    """
    from sklearn.model_selection import StratifiedKFold

    from synthgen.report.utility import categorical_mask, features, fitted, learner, one_thread

    n = min(real.n_rows, synth.n_rows) if rows is None else min(rows, real.n_rows, synth.n_rows)
    names = list(real)
    out: dict[str, Any] = {
        "auc": float("nan"),
        "c2st": float("nan"),
        "rows": n,
        "folds": folds,
        "giveaway_columns": [],
    }
    if n < 20 or not names:
        return out
    rng = np.random.default_rng(seed)
    x = np.vstack(
        [
            features(real, names, np.sort(rng.choice(real.n_rows, n, replace=False))),
            features(synth, names, np.sort(rng.choice(synth.n_rows, n, replace=False))),
        ]
    )
    y = np.r_[np.zeros(n), np.ones(n)]
    model = learner(True, categorical_mask(real, names), seed, iterations, leaves)
    aucs, drops = [], np.zeros(len(names))
    with one_thread():
        for fit_rows, test_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(
            x, y
        ):
            fitted(model, x[fit_rows], y[fit_rows])
            x_test, y_test = x[test_rows], y[test_rows]
            auc = rank_auc(y_test, model.predict_proba(x_test)[:, 1])
            aucs.append(auc)
            split_on = split_columns(model, len(names))
            for j in range(len(names)):
                shuffled = x_test.copy()
                for _ in range(repeats):
                    shuffled[:, j] = rng.permutation(x_test[:, j])
                    if not split_on[j]:
                        continue  # no tree reads it: the predictions, and the AUC, stay
                    p = model.predict_proba(shuffled)[:, 1]
                    drops[j] += (auc - rank_auc(y_test, p)) / (repeats * folds)
    out["auc"] = float(np.mean(aucs))
    out["c2st"] = c2st(out["auc"])
    out["giveaway_columns"] = [
        {"column": names[j], "importance": float(drops[j])}
        for j in np.argsort(-drops, kind="stable")
        if drops[j] > 0
    ]
    return out


def split_columns(model: Any, width: int) -> np.ndarray:
    """Which of `width` columns some tree of a fitted gradient boosting splits on; all of them
    where the model does not show its trees. Shuffling a column no tree reads changes no
    prediction: on 2,000 columns, 30 trees of 15 leaves read at most 420, and the detection
    test skips the rest's predictions (16 s of its 17 on ISLP's Fund)."""
    used = np.zeros(width, dtype=bool)
    try:
        for trees in model._predictors:
            for tree in trees:
                nodes = tree.nodes
                used[nodes["feature_idx"][~nodes["is_leaf"].astype(bool)]] = True
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return np.ones(width, dtype=bool)
    return used


def rank_auc(y: np.ndarray, score: np.ndarray) -> float:
    """The ROC AUC of `score` for labels `y` (0/1) by the rank-sum (Mann-Whitney) formula, ties
    at their mean rank: scikit-learn's `roc_auc_score`, without its checks, which cost 5 ms a
    call (the detection test's permutation importances make one per column, fold and repeat:
    a table of 2,000 columns spent 100 s there).

    Example:
        >>> rank_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
        0.75
    """
    from scipy.stats import rankdata

    positive = y == 1
    n1 = int(positive.sum())
    n0 = len(y) - n1
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def unwritten_rare(real: Prepared, synth: Prepared, rare_rows: int) -> float:
    """The share of real rows holding a category seen in fewer than `rare_rows` real rows that
    no synthetic row holds (synthgen's models never write one: it could single out a person).
    A classifier tells those rows apart whatever else the model does, so C2ST stays under
    about 1 minus this share (2 x (1 - AUC), the AUC at least 0.5 + share / 2).

    Example:
        >>> import pandas as pd
        >>> from synthgen.compare.values import prepare
        >>> from synthgen.schema import detect
        >>> real = pd.DataFrame({"c": ["a"] * 90 + ["b"] * 6 + ["z", "y", "y", "x"]})
        >>> r = prepare(real, detect(real), "real")
        >>> unwritten_rare(r, prepare(real.head(96), detect(real), like=r), 5)
        0.04
    """
    from synthgen.columns import KINDS

    holds = np.zeros(real.n_rows, dtype=bool)
    for name, v in real.items():
        if v.codes is None or v.categories is None or KINDS[v.kind].rare_check != "codes":
            continue
        k = len(v.categories)
        seen = v.codes >= 0
        written = np.zeros(k, dtype=bool)
        drawn = synth[name].codes
        written[drawn[(drawn >= 0) & (drawn < k)]] = True
        unwritten = (np.bincount(v.codes[seen], minlength=k) < rare_rows) & ~written
        holds[seen] |= unwritten[v.codes[seen]]
    return float(holds.mean()) if len(holds) else 0.0
