"""What every column module shares: the encoded parts a model sees, and the null indicator.

A column is encoded into zero or more *parts*. A continuous part is a float array without NaN; a
discrete part is an int array of codes in [0, cardinality). Every model works on parts only, so a
new column kind needs no model changes, and a new model needs no column changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The name of a column's null indicator part is the column's name and this.
NULL_SUFFIX = "\x1fnull"


@dataclass(frozen=True)
class Part:
    """One encoded feature: `cardinality` is None for a continuous part."""

    name: str
    cardinality: int | None = None

    @property
    def continuous(self) -> bool:
        return self.cardinality is None


def null_mask(values) -> np.ndarray:
    """True where a value is missing (None, NaN, NaT, pd.NA)."""
    import pandas as pd

    return np.asarray(pd.isna(values), dtype=bool)


def fill_from_observed(x: np.ndarray, missing: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replace missing entries by draws from the observed ones, so the marginal stays intact."""
    if not missing.any():
        return x
    x = x.copy()
    observed = x[~missing]
    x[missing] = rng.choice(observed, size=int(missing.sum())) if len(observed) else 0.0
    return x


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a well-spread 64-bit hash of each entry."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


class RowRandom:
    """Random numbers tied to row numbers: row i gets the same draws however rows are chunked.

    Decoding uses these (not a sequential generator) so a chunk of rows can be decoded at once
    and still match the same rows decoded in any other chunking.

    Example:
        >>> a = RowRandom(seed=7, start=0, n=10).uniform()
        >>> b = RowRandom(seed=7, start=5, n=5).uniform()
        >>> bool((a[5:] == b).all())
        True
    """

    def __init__(self, seed: int, start: int, n: int, key: int = 0, total: int | None = None):
        self.seed, self.start, self.n, self.key = int(seed), int(start), int(n), int(key)
        # rows in the whole sample these rows belong to (a chunk's rows are only part of it)
        self.total = self.start + self.n if total is None else int(total)
        self._index: np.ndarray | None = None  # set by `take`: only these rows (offsets)

    def child(self, key: int) -> RowRandom:
        """An independent stream for one column (or one use inside a column)."""
        # Python ints, wrapped to 64 bits: a child's key times 1_000_003 is past uint64
        base = _mix(np.array([(self.key * 1_000_003 + key + 1) % 2**64], dtype=np.uint64))[0]
        out = RowRandom(self.seed, self.start, self.n, int(base % np.uint64(2**62)), self.total)
        out._index = self._index
        return out

    def take(self, index: np.ndarray) -> RowRandom:
        """The same draws for only the rows at offsets `index` (a few rows of a big chunk).

        Example:
            >>> rows = RowRandom(seed=7, start=0, n=10)
            >>> bool((rows.take(np.array([2, 5])).uniform() == rows.uniform()[[2, 5]]).all())
            True
        """
        out = RowRandom(self.seed, self.start, self.n, self.key, self.total)
        out._index = np.asarray(index, dtype=np.int64)
        return out

    def uniform(self, width: int | None = None) -> np.ndarray:
        """Uniform draws in [0, 1): shape (n,) or (n, width) (n: the rows taken, if any)."""
        cols = 1 if width is None else width
        if self._index is None:
            rows = np.arange(self.start, self.start + self.n, dtype=np.uint64)[:, None]
        else:
            rows = (self._index + self.start).astype(np.uint64)[:, None]
        lanes = np.arange(cols, dtype=np.uint64)[None, :]
        with np.errstate(over="ignore"):
            salt = _mix(np.array([(self.seed * 2654435761 + self.key) % 2**64], np.uint64))[0]
            x = _mix(rows * _GOLDEN + lanes * np.uint64(0xD6E8FEB86659FD93) + salt)
        u = (x >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
        return u[:, 0] if width is None else u

    def choice(self, probabilities, width: int | None = None) -> np.ndarray:
        """Indices drawn with the given probabilities."""
        cum = np.cumsum(np.asarray(probabilities, dtype=float))
        cum /= cum[-1]
        return np.minimum(np.searchsorted(cum, self.uniform(width), side="right"), len(cum) - 1)
