"""How many rows each of cart's trees may hold in a leaf: its least leaf, or half that where the
column follows the columns before it so closely that half the crowd predicts it clearly better.

A leaf of 20 rows is a crowd to draw from: a value comes from among 20 training rows like the
row being drawn. Where a column is all but a function of the earlier ones (a series' value of
its date, a tract's tax of the town its other figures name, a tumour's area of its radius),
those 20 rows span a stretch of the function, and a drawn row lands anywhere along it: a
boosted classifier sees the rows off the curve. So each tree's leaf size is chosen on the
training rows: two-fold cross-validation of a plain regression (or classification) tree at
the least leaf and at half of it, scored by held-out squared error (Brier score for codes);
half is kept only where it cuts that error by at least `GAIN`, so a column that is mostly noise
around its predictors keeps its crowd of 20. Measured over 59 real tables in
docs/benchmarks.md ("cart's leaf sizes").

On a table of coarse columns half a crowd can be the rows of one value of the columns before
(12 training rows at each x of 0.00, 0.01, ...): a drawn row then takes the next column from a
row that shares its x, and repeats a training row. So the fit draws 500 rows with the
halved trees and with whole crowds (`guard`); where the halved ones copy a training row more
often than both the whole crowds and the training rows themselves (a new row repeats one
that often), every tree goes back to the whole crowd.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x = np.sort(rng.uniform(0, 10, 600))[:, None]
    >>> leaf_size(x, np.sin(3 * x[:, 0]), None, 20, seed=0)  # a curve: half the crowd
    10
    >>> leaf_size(x, rng.normal(size=600), None, 20, seed=0)  # noise: the crowd
    20
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from synthgen.models.cart_copies import drawn_hashes, repeat_share

#: The least share of held-out error a leaf half as large must save to be taken.
GAIN = 0.05
#: The most training rows the cross-validation reads (a random subset of a larger table).
ROWS = 4_000
#: The smallest least leaf that is ever halved (a leaf of 3 rows stays 3).
SMALLEST = 4
#: The share of the rows drawn to compare halved trees with whole crowds (`guard`,
#: `cart_blur.CHECK_ROWS` of them) by which the halved ones may copy more (the draws' noise).
SLACK = 0.02


def leaf_size(x: np.ndarray, y: np.ndarray, discrete: int | None, min_leaf: int, seed: int) -> int:
    """`min_leaf`, or half of it where a tree of part `y` on `x` (as the tree splits them) with
    leaves half as large predicts held-out rows better by at least `GAIN` (`discrete`: the
    number of codes of a discrete part, None for a number)."""
    n = len(y)
    half = min_leaf // 2
    if min_leaf < SMALLEST or x.shape[1] == 0 or n < 4 * min_leaf:
        return min_leaf
    rng = np.random.default_rng(seed)
    rows = rng.permutation(n)[:ROWS]
    folds = (rows[: len(rows) // 2], rows[len(rows) // 2 :])
    error = {size: _error(x, y, discrete, size, folds, seed) for size in (min_leaf, half)}
    if not error[min_leaf] > 0:
        return min_leaf
    return half if error[half] <= (1 - GAIN) * error[min_leaf] else min_leaf


def _error(
    x: np.ndarray,
    y: np.ndarray,
    discrete: int | None,
    size: int,
    folds: tuple[np.ndarray, np.ndarray],
    seed: int,
) -> float:
    """Held-out error of trees of leaves of `size` rows, each fold fitted on the other."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    total = 0.0
    for fit, held in (folds, folds[::-1]):
        if discrete:
            tree = DecisionTreeClassifier(min_samples_leaf=size, random_state=seed)
            fitted(tree, x[fit], y[fit])
            p = np.zeros((len(held), discrete))
            p[:, tree.classes_.astype(np.int64)] = tree.predict_proba(x[held])
            p[np.arange(len(held)), y[held].astype(np.int64)] -= 1.0
            total += float((p**2).sum(axis=1).mean())
        else:
            tree = DecisionTreeRegressor(min_samples_leaf=size, random_state=seed)
            tree.fit(x[fit], y[fit])
            total += float(((tree.predict(x[held]) - y[held]) ** 2).mean())
    return total


def fitted(tree: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """`tree.fit(x, y)`, quiet about codes of many classes: a code column with more classes
    than half the rows a tree is fitted on (a county's code, a lookup of a key's values) is no
    regression in disguise, and sklearn's UserWarning saying it may be would reach stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)
        return tree.fit(x, y)


def guard(model: Any, crowd: Callable[[int], Any], full: np.ndarray, seed: int) -> None:
    """Put back the whole crowd (`crowd(j)`: tree j fitted at the least leaf) in every tree of
    `model` (a fitted cart) that took half of it, where rows drawn with the halved trees copy a
    training row (`full`: the training rows' 64-bit hashes) more often than rows drawn with
    whole crowds and than the training rows repeat one another, by more than `SLACK`."""
    halved = [j for j, tree in enumerate(model.trees_) if tree.halved]
    if not halved:
        return
    values = np.unique(full)
    repeated = repeat_share(full)

    def copied() -> float:
        return float(np.isin(drawn_hashes(model, seed + 3), values).mean())

    half = copied()
    kept = {j: model.trees_[j] for j in halved}
    for j in halved:
        model.trees_[j] = crowd(j)
    if half <= max(copied(), repeated) + SLACK:
        for j, tree in kept.items():
            model.trees_[j] = tree
