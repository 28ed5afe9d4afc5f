"""Learning from tables bigger than memory: one pass over the chunks of a table keeps a uniform
random sample of at most k rows (reservoir sampling) and the facts that are cheap to count
exactly on every row (null counts, and the counts of each distinct value while a column has few).

The model is fitted on the sample; the exact counts then replace what the sample can only
estimate: null rates, category frequencies (and which categories are rare), the bounds, integer
flags and decimals of numeric and date columns, and the marginal distribution of every column
with at most `MAX_DISTINCT` distinct values (see `Synthesizer.fit(..., stream=...)`).

Example:
    >>> from synthgen.io import iter_table_chunks
    >>> sample, stats = reservoir_sample(iter_table_chunks("big.csv", 100_000), 1_000_000, seed=0)
    ... # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.columns import KINDS
from synthgen.columns.base import RowRandom, is_text
from synthgen.columns.numeric import parse_numbers, read_affixed
from synthgen.errors import InputError

if TYPE_CHECKING:
    from synthgen.schema import Schema

#: A column's distinct values are counted exactly while there are at most this many.
MAX_DISTINCT = 50_000
# Rows read after which the memory the pass freed is handed back to the system.
_BIG_PASS = 1_000_000
# The stream of random keys that decides which rows the sample keeps (apart from the streams
# sampling uses, so the same seed never ties the two together).
_KEY_STREAM = 0x5EED_5A4D


@dataclass
class ColumnStats:
    """What one pass counted of one column: nulls; each distinct value's rows (`counts`, None
    once the column had more than MAX_DISTINCT distinct values); after that, whether its
    values are numbers (`word`: the first that is not), their bounds and if all are whole."""

    nulls: int = 0
    counts: pd.Series | None = field(default_factory=lambda: pd.Series(dtype="float64"))
    low: float = np.inf
    high: float = -np.inf
    integer: bool = True
    word: Any = None

    def add(self, values: pd.Series) -> None:
        if self.counts is None:
            self.nulls += int(values.isna().sum())
        else:
            counts = values.value_counts(dropna=True, sort=False)
            self.nulls += len(values) - int(counts.sum())
            counts = counts[counts > 0]  # a Categorical counts its unused categories too
            if isinstance(counts.index, pd.CategoricalIndex):
                counts.index = pd.Index(counts.index.to_numpy())
            merged = self.counts.add(counts, fill_value=0) if len(self.counts) else counts
            if len(merged) <= MAX_DISTINCT:
                self.counts = merged
                return
            # too many to count: keep only what a numeric column needs, from here on
            self.counts = None
            values = pd.Series(merged.index, dtype=merged.index.dtype)
        if self.word is None:
            self._numbers(values.dropna())

    def _numbers(self, values: pd.Series) -> None:
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            x = values.to_numpy(dtype=float)
        elif is_text(values):
            text = [str(v).strip() for v in pd.unique(values.to_numpy(dtype=object))]
            found = read_affixed(text)  # as detection reads them: thousands separators, signs
            if found is None:
                self.word = text[int(np.argmax(np.isnan(parse_numbers(text))))]
                return
            x = found[0]
        else:  # dates, booleans, categoricals: not numbers, nothing more to count
            self.word = values.iloc[0] if len(values) else None
            return
        x = x[np.isfinite(x)]
        if len(x):
            self.low, self.high = min(self.low, x.min()), max(self.high, x.max())
            self.integer = self.integer and bool(np.all(x == np.round(x)))

    def distinct(self) -> pd.Series | None:
        """The column's distinct non-null values, if they were all counted."""
        counts = self.counts
        return None if counts is None else pd.Series(counts.index, dtype=counts.index.dtype)


@dataclass
class StreamStats:
    """Exact facts of a whole table, counted in one pass (see `reservoir_sample`)."""

    rows: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)

    def add(self, chunk: pd.DataFrame) -> None:
        """Count one chunk."""
        self.rows += len(chunk)
        for name in chunk.columns:
            self.columns.setdefault(str(name), ColumnStats()).add(chunk[name])


def reservoir_sample(
    chunks: Iterable[pd.DataFrame], k: int, seed: int
) -> tuple[pd.DataFrame, StreamStats]:
    """A uniform random sample of at most `k` rows of the table the chunks make up, in the
    table's order, and the table's `StreamStats`, in one pass over the chunks.

    Each row gets a random key tied to its row number and the seed; the sample is the k rows
    with the smallest keys, so every set of k rows is equally likely and the result does not
    depend on the chunk sizes. Memory holds about 1.25 k rows (synthgen's readers share the
    text of equal cells, so a sampled text cell costs a pointer, not a copy of its text).

    Example:
        >>> chunks = (pd.DataFrame({"x": range(i, i + 10)}) for i in range(0, 100, 10))
        >>> sample, stats = reservoir_sample(chunks, 5, seed=0)
        >>> len(sample), stats.rows
        (5, 100)
    """
    if k < 1:
        raise InputError("the sample must keep at least one row")
    stats = StreamStats()
    held = _Held()
    threshold = np.inf  # rows with larger keys can no longer make the sample
    start = 0
    for chunk in chunks:
        stats.add(chunk)
        n = len(chunk)
        keys = RowRandom(seed, start, n, key=_KEY_STREAM).uniform()
        take = np.flatnonzero(keys < threshold)
        if len(take):
            held.add(chunk, take, keys[take], start + take)
        start += n
        if len(held) >= k + max(k // 4, 1) or (threshold == np.inf and len(held) >= k):
            threshold = held.keep_smallest(k)
    if not len(held):
        raise InputError("the table has no rows to learn from")
    held.keep_smallest(k)
    if stats.rows >= _BIG_PASS:
        _release_freed_memory()
    return held.frame(), stats


def _release_freed_memory() -> None:
    """Hand the heap memory the pass freed back to the system (glibc keeps it otherwise: the
    chunks come and go, a few sampled cells of each stay, and the process would go into the
    fit at its high-water mark, several hundred MB above what it holds). Linux only."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl): nothing to trim this way
        pass


class _Held:
    """The rows a reservoir holds, kept column by column, so that keeping the rows of smallest
    key copies one column at a time (a big sample is never in memory twice)."""

    def __init__(self) -> None:
        self.names: list[Any] = []
        self.columns: list[list[pd.Series]] = []
        self.keys: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(k) for k in self.keys)

    def add(
        self, chunk: pd.DataFrame, take: np.ndarray, keys: np.ndarray, rows: np.ndarray
    ) -> None:
        if not self.names:
            self.names = list(chunk.columns)
            self.columns = [[] for _ in self.names]
        for i, parts in enumerate(self.columns):
            parts.append(chunk.iloc[take, i])
        self.keys.append(keys)
        self.rows.append(rows)

    def keep_smallest(self, k: int) -> float:
        """Keep the k rows of smallest key (ties: the earlier row), in table order; returns
        the largest key kept once k rows are held (infinity before)."""
        keys, rows = np.concatenate(self.keys), np.concatenate(self.rows)
        # rows are held in table order, so a stable sort breaks ties by the earlier row
        keep = np.sort(np.argsort(keys, kind="stable")[:k])  # positions follow table order
        for i, parts in enumerate(self.columns):
            column = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            self.columns[i] = [column.iloc[keep].reset_index(drop=True)]
        self.keys, self.rows = [keys[keep]], [rows[keep]]
        return float(keys[keep].max()) if len(keep) >= k else np.inf

    def frame(self) -> pd.DataFrame:
        frame = pd.concat([parts[0] for parts in self.columns], axis=1, ignore_index=True)
        frame.columns = pd.Index(self.names, dtype=object)
        return frame


def use_stream_stats(
    schema: Schema, stats: StreamStats, overrides: Schema | None = None
) -> list[str]:
    """Correct a schema detected on a sample with the whole table's exact facts: null rates
    for every column, and the facts each kind reads off its values (`Kind.refine`: for numeric,
    date and boolean columns whose distinct values were all counted, their bounds, integer flag,
    decimals, format and spelling, checked against every value; a word in a numeric column is a
    SchemaError naming it). Facts the user gave in `overrides` are kept. Returns the names of the
    columns whose values were all counted."""
    given = {c.name: c for c in overrides.columns} if overrides is not None else {}
    exact = []
    for col in schema.columns:
        col_stats = stats.columns[col.name]
        col.null_rate = round(col_stats.nulls / stats.rows, 6) if stats.rows else 0.0
        if col_stats.counts is not None:
            exact.append(col.name)
        KINDS[col.kind].refine(col, col_stats)
        override = given.get(col.name)
        if override is not None:
            col.take(override)
    return exact
