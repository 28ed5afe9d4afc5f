"""One module per column kind, each closed by a `Kind` record of the same functions (detect,
fill, fit, parts, encode, decode, typed values, what conditions and the report ask), the registry
that lists them, and the table encoder that runs them over a whole table.

A new kind is a module here and one entry in `KINDS` below; tests/test_columns.py tests every
registered kind.

Example:
    >>> import numpy as np, pandas as pd
    >>> from synthgen.schema import detect
    >>> table = pd.DataFrame({"x": ["1", "2", "3"], "c": ["a", "b", "a"]})
    >>> enc = TableEncoder(detect(table)).fit(table, np.random.default_rng(0))
    >>> [p.name for p in enc.parts]
    ['x', 'c']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.columns import boolean, categorical, constant, datetime, identifier, numeric, text
from synthgen.columns.base import (
    NULL_SUFFIX,
    Column,
    Counted,
    Kind,
    Part,
    RowRandom,
    as_source_dtype,
    protected_bounds,
    register,
    seen_bounds,
    seen_range,
)

if TYPE_CHECKING:
    from synthgen.schema import Schema
    from synthgen.stream import StreamStats

#: The column kinds by name, in the order detection asks them: the first that claims a column
#: has it (`Kind.claims`), so a kind that claims more comes later, and text, which takes what is
#: left, comes last.
KINDS: dict[str, Kind] = register(
    boolean.KIND,
    constant.KIND,
    datetime.KIND,
    identifier.KIND,
    numeric.KIND,
    categorical.KIND,
    text.KIND,
)


@dataclass
class Encoded:
    """A table as models see it: continuous parts (float, no NaN) and discrete parts (codes)."""

    continuous: np.ndarray  # (rows, p) float64
    discrete: np.ndarray  # (rows, q) int64
    n_rows: int

    @classmethod
    def from_parts(cls, parts: list[Part], arrays: Iterable[np.ndarray], n_rows: int) -> Encoded:
        """The parts' arrays (in the order of `parts`, a list or an iterator) in two column-major
        arrays, each copied in as it comes: a big table never holds them twice."""
        cont = np.empty((n_rows, sum(p.continuous for p in parts)), order="F")
        disc = np.empty((n_rows, len(parts) - cont.shape[1]), dtype=np.int64, order="F")
        ci = di = 0
        for part, array in zip(parts, arrays, strict=True):
            if part.continuous:
                cont[:, ci] = array
                ci += 1
            else:
                disc[:, di] = array
                di += 1
        return cls(cont, disc, n_rows)


class TableEncoder:
    """Fits every column kind on a table; encodes tables to parts and decodes parts to tables."""

    def __init__(self, schema: Schema, rare_threshold: int = 5):
        self.schema = schema
        self.rare_threshold = rare_threshold
        self.states: list[dict[str, Any]] = []

    def fit(
        self, table: pd.DataFrame, rng: np.random.Generator, stream: StreamStats | None = None
    ) -> TableEncoder:
        """Fit every column on `table`. With `stream` (the exact counts of a whole table that
        `table` is a sample of), nulls and category frequencies come from the whole table."""
        self.states = []
        for col in self.schema.columns:
            counted = stream.columns[col.name] if stream is not None else None
            state = KINDS[col.kind].fit(
                table[col.name], col, rare_threshold=self.rare_threshold, counted=counted
            )
            if counted is not None and counted.counts is not None and "min" in state:
                self._protect_from_counts(col, state, counted)
            self.states.append(state)
        return self

    def _protect_from_counts(self, col: Column, state: dict[str, Any], counted: Counted) -> None:
        """A continuous state's bounds from the whole table's counts of its distinct values
        (the sample's k-th largest is a lesser extreme than the table's)."""
        kind = KINDS[col.kind]
        if not kind.exact_from_counts or not len(counted.counts):
            return
        values = pd.Series(counted.counts.index)
        x = kind.encode(
            values,
            col,
            {**state, "has_nulls": False, "min": -np.inf, "max": np.inf},
            np.random.default_rng(0),
        )[0]
        seen = seen_range(state)
        low, high = protected_bounds(
            x, *seen, self.rare_threshold, counted.counts.to_numpy(dtype=float)
        )
        state.pop("seen", None)
        state.update({"min": low, "max": high} | seen_bounds(seen, low, high))

    def exact_marginals(self, stream: StreamStats) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """For each part, its values over the whole table as (distinct values, rows), where
        the stream counted them all: every part of a column whose distinct values were all
        counted, and the null indicator of any column; None for the other parts."""
        rng = np.random.default_rng(0)  # encoding distinct values draws nothing that is kept
        out: list[tuple[np.ndarray, np.ndarray] | None] = []
        for col, state in zip(self.schema.columns, self.states):
            kind = KINDS[col.kind]
            stats = stream.columns[col.name]
            parts = kind.parts(col.name, state)
            if stats.counts is not None and kind.exact_from_counts:
                # every distinct value once, and a null if there were any, weighted by rows
                real = len(stats.counts)
                values = pd.Series(stats.counts.index).reindex(range(real + (stats.nulls > 0)))
                weights = np.append(stats.counts.to_numpy(dtype=float), stats.nulls)
                for part, codes in zip(parts, kind.encode(values, col, state, rng)):
                    if part.continuous:  # the null's placeholder value is no real value
                        out.append((codes[:real], weights[:real]))
                    else:
                        out.append((codes, weights[: len(codes)]))
                continue
            for part in parts:
                if part.name == f"{col.name}{NULL_SUFFIX}":
                    nulls = float(stats.nulls)
                    out.append((np.array([0, 1]), np.array([stream.rows - nulls, nulls])))
                else:
                    out.append(None)
        return out

    @property
    def parts(self) -> list[Part]:
        out: list[Part] = []
        for col, state in zip(self.schema.columns, self.states):
            out.extend(KINDS[col.kind].parts(col.name, state))
        return out

    @property
    def continuous_parts(self) -> list[Part]:
        return [p for p in self.parts if p.continuous]

    @property
    def discrete_parts(self) -> list[Part]:
        return [p for p in self.parts if not p.continuous]

    def encode(self, table: pd.DataFrame, rng: np.random.Generator) -> Encoded:
        arrays = (
            array
            for col, state in zip(self.schema.columns, self.states)
            for array in self._encode_column(table[col.name], col, state, rng)
        )
        return Encoded.from_parts(self.parts, arrays, len(table))

    def _encode_column(
        self, values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator
    ) -> list[np.ndarray]:
        """One column's parts (an encoder that has some already may give those)."""
        return KINDS[col.kind].encode(values, col, state, rng)

    def decode(
        self,
        encoded: Encoded,
        seed: int = 0,
        start: int = 0,
        *,
        total: int | None = None,
        categorical: bool = False,
    ) -> pd.DataFrame:
        """Rows of the table from encoded parts. `start` numbers the first row and `total` is
        the size of the whole sample (default: up to these rows): the random draws of decoding
        (and new keys) belong to row numbers, so any chunking gives the same rows.

        `categorical=True` returns text columns of few values (categorical, boolean spellings,
        constants) as pandas Categoricals: the same values, much faster to build and write.
        """
        columns = self.decode_columns(encoded, seed, start, total=total, categorical=categorical)
        return pd.DataFrame(columns, copy=False)

    def decode_columns(
        self,
        encoded: Encoded,
        seed: int = 0,
        start: int = 0,
        *,
        total: int | None = None,
        categorical: bool = False,
    ) -> dict[str, pd.Series]:
        """`decode`'s columns by name, before they are made one frame (an encoder that joins
        the columns of several makes one frame of them all)."""
        rows = RowRandom(seed, start, encoded.n_rows, total=total)
        ci = di = 0
        columns = {}
        for i, (col, state) in enumerate(zip(self.schema.columns, self.states)):
            kind = KINDS[col.kind]
            arrays = []
            for part in kind.parts(col.name, state):
                if part.continuous:
                    arrays.append(encoded.continuous[:, ci])
                    ci += 1
                else:
                    arrays.append(encoded.discrete[:, di])
                    di += 1
            values = kind.decode(arrays, col, state, rows.child(i), as_category=categorical)
            if not isinstance(values.dtype, pd.CategoricalDtype):  # one asked for stays one
                values = as_source_dtype(values, col)
            columns[col.name] = values
        return columns

    def fit_context(self) -> Encoded | None:
        """Parts of the training rows beside the encoded ones, that a rare category's stand-in
        is matched on (`synthgen.columns.stand_ins`): none here (a rule encoder's columns that
        rules decide)."""
        return None

    def suppressed(self) -> dict[str, dict[str, int]]:
        """Per column, how many rare categories (and rows) or words were kept out of the output."""
        out = {}
        for col, state in zip(self.schema.columns, self.states):
            if state.get("suppressed_categories"):
                out[col.name] = {
                    "categories": state["suppressed_categories"],
                    "rows": state["suppressed_rows"],
                }
            elif state.get("suppressed_words"):
                out[col.name] = {"words": state["suppressed_words"], "made": "spelling" in state}
        return out

    def to_state(self) -> dict[str, Any]:
        return {"rare_threshold": self.rare_threshold, "columns": self.states}

    @classmethod
    def from_state(cls, schema: Schema, state: dict[str, Any]) -> TableEncoder:
        enc = cls(schema, state["rare_threshold"])
        enc.states = state["columns"]
        return enc


__all__ = ["Column", "Encoded", "KINDS", "Kind", "Part", "TableEncoder", "as_source_dtype"]
