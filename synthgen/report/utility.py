"""Utility: is a model trained on the synthetic rows as good on real rows as one trained on real
rows? (train on synthetic, test on real, against train on real, test on real.)

The learner is scikit-learn's histogram gradient boosting, which takes numbers with nulls and
categories as they are; a categorical or boolean target is classified (accuracy, macro F1), a
numeric or date target regressed (R^2, mean absolute error). The real rows tested on are the
holdout when there is one, else a fifth of the real table kept out of the real model's training.

The same feature matrix serves the classifier two-sample test of `synthgen.report.fidelity`.

Example:
    >>> import numpy as np, pandas as pd
    >>> from synthgen.schema import detect
    >>> from synthgen.compare.values import prepare
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=1000)
    >>> real = pd.DataFrame({"x": x, "y": np.where(x > 0, "up", "down")})
    >>> schema = detect(real)
    >>> train = prepare(real, schema, "real")
    >>> result = assess(train, prepare(real.iloc[::-1], schema, like=train), "y")
    >>> result["task"], result["synthetic"]["accuracy"] > 0.95
    ('classification', True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from synthgen.compare.values import Prepared
from synthgen.errors import UsageError, option

# Rows a model is trained on at most (subsampled beyond; the comparison stays fair, both sides
# get as many rows).
MAX_TRAIN_ROWS = 20_000
# Category codes beyond this share one bin (the learner takes at most 255 categories).
_MAX_CATEGORY = 254
# Columns with more categories than this are numbered by frequency for the learner.
_FEW_CATEGORIES = 32


def features(table: Prepared, names: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    """Columns `names` as a float matrix for the learner: numbers as they are (NaN for null),
    categories as codes of the real categories (NaN for null)."""
    n = table.n_rows if rows is None else len(rows)
    out = np.empty((n, len(names)))
    for j, name in enumerate(names):
        v = table[name]
        if v.codes is None:
            out[:, j] = v.x if rows is None else v.x[rows]
        else:
            codes = (v.codes if rows is None else v.codes[rows]).astype(float)
            codes[codes < 0] = np.nan
            out[:, j] = np.minimum(codes, _MAX_CATEGORY)
    return out


def categorical_mask(table: Prepared, names: list[str]) -> np.ndarray:
    """Which features the learner splits as categories: those with few enough of them. Codes
    of a many-valued column (most frequent first) go in as numbers: categorical splits over
    hundreds of values cost many times more, and frequency order splits well enough."""
    return np.array(
        [
            table[name].categories is not None and len(table[name].categories) <= _FEW_CATEGORIES
            for name in names
        ]
    )


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """OpenMP (scikit-learn) and BLAS (numpy) on one thread: on a busy machine their spinning
    threads slow a sub-second fit or product down many times, and the report's are small."""
    import sklearn.ensemble  # noqa: F401  (loads OpenMP first, so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def learner(
    classify: bool, categorical: np.ndarray, seed: int = 0, iterations: int = 100, leaves: int = 31
) -> Any:
    """The gradient boosting model both sides are trained with."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    return cls(
        max_iter=iterations,
        max_leaf_nodes=leaves,
        categorical_features=categorical if categorical.any() else None,
        early_stopping=False,
        random_state=seed,
    )


def fitted(model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """`model.fit(x, y)`, a feature with no value in `x` (all null) read as a constant:
    scikit-learn 1.9's binning raises on one (a sparse column of a few filled rows, all
    missing among the rows a fold fits on: great_tables' reactions). A constant is never
    split on, so the model is the one those rows can give.

    Example:
        >>> x = np.c_[np.arange(40.0), np.full(40, np.nan)]
        >>> m = fitted(learner(True, np.array([False, False]), iterations=5), x, np.arange(40) % 2)
        >>> m.predict(x[:2]).shape
        (2,)
    """
    empty = np.isnan(x).all(axis=0)
    if empty.any():
        x = x.copy()
        x[:, empty] = 0.0
    return model.fit(x, y)


def assess(
    real: Prepared,
    synth: Prepared,
    target: str,
    holdout: Prepared | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Scores of a model trained on the synthetic rows and of one trained on the real rows,
    both tested on real rows, and their ratio."""
    if target not in real:
        raise UsageError(
            f"{option(f'--target {target!r}', f'target={target!r}')} is not a column the "
            f"report compares; use one of {', '.join(real)}"
        )
    rng = np.random.default_rng(seed)
    classify = real[target].codes is not None
    if holdout is not None and holdout.n_rows:
        train_rows, test, test_rows = np.arange(real.n_rows), holdout, np.arange(holdout.n_rows)
        tested_on = "holdout"
    else:
        order = rng.permutation(real.n_rows)
        cut = int(0.8 * real.n_rows)
        train_rows, test, test_rows = np.sort(order[:cut]), real, np.sort(order[cut:])
        tested_on = "a fifth of the real table, kept out of the real model's training"
    names = [n for n in real if n != target]
    categorical = categorical_mask(real, names)
    n_train = min(len(train_rows), synth.n_rows, MAX_TRAIN_ROWS)
    train_rows = np.sort(rng.choice(train_rows, n_train, replace=False))
    synth_rows = np.sort(rng.choice(synth.n_rows, n_train, replace=False))
    x_test, y_test = _xy(test, names, target, test_rows)
    results = {}
    for side, table, rows in (("real", real, train_rows), ("synthetic", synth, synth_rows)):
        x, y = _xy(table, names, target, rows)
        results[side] = _fit_score(x, y, x_test, y_test, classify, categorical, seed)
    main = "accuracy" if classify else "r2"
    real_score, synth_score = results["real"][main], results["synthetic"][main]
    return {
        "target": target,
        "task": "classification" if classify else "regression",
        "tested_on": tested_on,
        "train_rows": n_train,
        "test_rows": int(len(y_test)),
        "real": results["real"],
        "synthetic": results["synthetic"],
        "metric": main,
        "ratio": float(synth_score / real_score) if real_score > 0 else float("nan"),
    }


def _xy(
    table: Prepared, names: list[str], target: str, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    v = table[target]
    y = (v.x if v.codes is None else v.codes)[rows].astype(float)
    if v.codes is not None:
        y[y < 0] = np.nan
    keep = ~np.isnan(y)
    return features(table, names, rows[keep]), y[keep]


def _fit_score(
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    classify: bool,
    categorical: np.ndarray,
    seed: int,
) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score

    if len(y) == 0 or (classify and len(np.unique(y)) < 2):
        # nothing to learn from: the best constant guess
        pred = np.full(len(y_test), y[0] if len(y) else (0.0 if classify else np.nan))
    else:
        with one_thread():
            pred = fitted(learner(classify, categorical, seed), x, y).predict(x_test)
    if classify:
        return {
            "accuracy": float(accuracy_score(y_test, pred)),
            "f1_macro": float(f1_score(y_test, pred, average="macro", zero_division=0)),
        }
    if np.isnan(pred).any():
        return {"r2": float("nan"), "mae": float("nan")}
    return {"r2": float(r2_score(y_test, pred)), "mae": float(mean_absolute_error(y_test, pred))}
