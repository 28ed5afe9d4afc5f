"""`--by`: the column a model is always conditioned on, and its classes (strata).

A model that takes `by` (gaussian-copula, gmm, ctgan) plugs in here for what they share: the
`by` entry of its saved parameters (`by_params`), the discrete part of the column (`by_part`,
with the one error a bad column gets), the training rows' classes (`Classes`: rows per class,
which classes are big enough for a model of their own, the rows of a class, a class-by-category
table of counts), and the reading of such a table (`class_shares`, `cumulative_rows`,
`unseen`). What each model does with a class stays in the model: a copula of its own
(gaussian-copula), mixture components of its own (gmm), a second condition of every training
row (ctgan).

Example:
    >>> import numpy as np
    >>> classes = Classes(np.array([0] * 250 + [1] * 30 + [2] * 220), 4)
    >>> classes.counts.tolist(), classes.own.tolist(), classes.rare.tolist()
    ([250, 30, 220, 0], [0, 2], [False, True, False, True])
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.errors import UsageError, option

if TYPE_CHECKING:
    from synthgen.models.base import Synthesizer

# A class of a model's `by` column needs this many training rows for a model of its own; rarer
# classes come from the whole table's model conditioned on them (a model of a few rows would
# repeat their values).
STRATUM_ROWS = 200


def by_params(by: Any) -> dict[str, str]:
    """The `by` entry of a model's saved parameters: none without a `by` column, so that a
    model file without one reads as it always did.

    Example:
        >>> by_params(None), by_params("income")
        ({}, {'by': 'income'})
    """
    return {} if by is None else {"by": str(by)}


def copies_params(allow: bool) -> dict[str, bool]:
    """The `allow_copies` entry of a copy-guarded model's saved parameters
    (`synthgen.models.copy_guard`): none unless set, so that a model file without it reads (and
    hashes) as it always did.

    Example:
        >>> copies_params(False), copies_params(True)
        ({}, {'allow_copies': True})
    """
    return {"allow_copies": True} if allow else {}


def by_part(model: Synthesizer, by: str | None) -> int | None:
    """The discrete part (category codes) of a model's `by` column, None without one; a clear
    error when the column is not in the table or has no classes."""
    if by is None:
        return None
    from synthgen.conditions import targets

    found = targets(model.encoder_)
    if by not in found:
        raise UsageError(
            f"{model.name}: {option(f'--by {by!r}', f'by={by!r}')} is not a column of the table; "
            "columns: " + ", ".join(found)
        )
    target = found[by]
    if not target.discrete or target.value is None:
        raise UsageError(
            f"{model.name}: {option(f'--by {by!r}', f'by={by!r}')} is {target.col.kind}; it needs "
            "a categorical or boolean column"
        )
    return target.value


class Classes:
    """The training rows' classes of `by`: `codes` (one per row) out of `k` classes."""

    def __init__(self, codes: np.ndarray, k: int):
        self.codes, self.k = codes, int(k)

    @cached_property
    def counts(self) -> np.ndarray:
        """Rows per class."""
        return np.bincount(self.codes, minlength=self.k)

    @property
    def own(self) -> np.ndarray:
        """The classes with rows enough for a model of their own (`STRATUM_ROWS`)."""
        return np.flatnonzero(self.counts >= STRATUM_ROWS)

    @property
    def rare(self) -> np.ndarray:
        """Per class, whether it is too rare for a model of its own (classes without rows too)."""
        return self.counts < STRATUM_ROWS

    def rows(self, code: int) -> np.ndarray:
        """The rows of class `code`."""
        return np.flatnonzero(self.codes == code)

    def crosstab(self, other: np.ndarray, k: int) -> np.ndarray:
        """The (classes, k) counts of the rows' classes and their codes `other` of another part.

        Example:
            >>> Classes(np.array([0, 0, 1]), 2).crosstab(np.array([2, 0, 2]), 3).tolist()
            [[1, 0, 1], [0, 0, 1]]
        """
        return (
            np.bincount(self.codes * k + other, minlength=self.k * k)
            .reshape(self.k, k)
            .astype(np.int64)
        )


def class_shares(table: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A (classes, categories) table of counts restricted to the `allowed` categories, and each
    class's share of its rows that the restriction keeps (0 for a class without rows).

    Example:
        >>> table, share = class_shares(np.array([[3, 1], [0, 0]]), np.array([True, False]))
        >>> table.tolist(), share.tolist()
        ([[3, 0], [0, 0]], [0.75, 0.0])
    """
    kept = table * allowed
    rows = table.sum(axis=1)
    return kept, np.where(rows > 0, kept.sum(axis=1) / np.maximum(rows, 1), 0.0)


def cumulative_rows(table: np.ndarray) -> np.ndarray:
    """Each row of `table` (a class's counts) as a cumulative distribution (an empty row:
    evenly spread).

    Example:
        >>> cumulative_rows(np.array([[1.0, 3.0], [0.0, 0.0]])).tolist()
        [[0.25, 1.0], [0.5, 1.0]]
    """
    total = table.sum(axis=1, keepdims=True)
    share = np.where(total > 0, table / np.maximum(total, 1e-300), 1.0 / table.shape[1])
    return np.cumsum(share, axis=1)


def unseen(table: np.ndarray) -> np.ndarray:
    """Per class and category of a (classes, categories) table of counts: whether no row of
    the class has the category; a class without rows (the rare pool, nulls) keeps every one.

    Example:
        >>> unseen(np.array([[2, 0], [0, 0]])).tolist()
        [[False, True], [False, False]]
    """
    return (table == 0) & (table.sum(axis=1, keepdims=True) > 0)
