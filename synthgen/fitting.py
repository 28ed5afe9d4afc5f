"""Fitting a model on a table file of any size, read once with bounded memory: what
`synthgen fit` does, for Python.

The file is read in chunks; a uniform random sample of at most `max_rows` rows is kept
(`synthgen.stream.reservoir_sample`) with the exact counts of every row. The schema is detected
on the sample and corrected with the counts (null rates, category frequencies, bounds and the
distributions of columns of few values come from all rows), and the model is fitted on the
sample. A table of at most `max_rows` rows is fitted whole, as `synthgen.fit` would.

Example:
    >>> import synthgen
    >>> model = synthgen.fit_file("sample_data/penguins.csv", max_rows=200, seed=0)
    >>> (model.training_rows_, model.source_rows_)
    (200, 344)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthgen.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.models.base import Synthesizer
    from synthgen.schema import Schema
    from synthgen.stream import StreamStats

#: Rows a model is fitted on at most; a bigger table is streamed and sampled uniformly.
DEFAULT_MAX_ROWS = 1_000_000


@dataclass(frozen=True)
class FileRows:
    """What one pass over a table file gives a fit: `table`, every row or a uniform random
    sample of them; its `schema`, with the whole file's facts; the file's exact counts
    (`stream`); and `counted`, the columns whose distributions come from all rows."""

    table: pd.DataFrame
    schema: Schema
    stream: StreamStats
    counted: list[str]

    @property
    def sampled(self) -> bool:
        """Whether the file had more rows than `table` keeps."""
        return self.stream.rows > len(self.table)


def read_rows(
    source: str | os.PathLike[str],
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    seed: int,
    schema: Schema | str | os.PathLike[str] | None = None,
    decimal: str | None = None,
    na_values: Iterable[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
    chunk_rows: int = 100_000,
) -> FileRows:
    """Read `source` (CSV or Parquet, "-" for stdin) once: at most `max_rows` rows, chosen
    uniformly by `seed`, and the schema of the whole file. `schema` (a Schema or a JSON file's
    path) overrides detection for the columns it names, as `synthgen fit --schema` does; the
    reading options are those of `synthgen.io.read_table`.

    Example:
        >>> rows = read_rows("sample_data/penguins.csv", max_rows=100, seed=0)
        >>> len(rows.table), rows.stream.rows, rows.sampled
        (100, 344, True)
    """
    from synthgen.io import iter_table_chunks
    from synthgen.schema import Schema, detect
    from synthgen.stream import reservoir_sample, use_stream_stats

    if max_rows < 1:
        raise UsageError("max_rows must be at least 1")
    overrides = Schema.load(schema) if isinstance(schema, (str, os.PathLike)) else schema
    chunks = iter_table_chunks(
        str(source), chunk_rows, na_values=na_values, encoding=encoding, delimiter=delimiter
    )
    table, stream = reservoir_sample(chunks, max_rows, seed)
    detected = detect(table, overrides, decimal=decimal)
    counted = use_stream_stats(detected, stream, overrides) if stream.rows > len(table) else []
    return FileRows(table, detected, stream, counted)


def fit_file(
    source: str | os.PathLike[str],
    model: str = "gaussian-copula",
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    seed: int | None = None,
    schema: Schema | str | os.PathLike[str] | None = None,
    decimal: str | None = None,
    na_values: Iterable[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
    **params: Any,
) -> Synthesizer:
    """Fit `model` on a table file too big to load, as `synthgen fit FILE --max-rows N` does:
    one pass with bounded memory (see `read_rows` for the options); `params` are the model's.
    The same seed gives the same model as the command line.

    Example:
        >>> import synthgen
        >>> model = synthgen.fit_file("sample_data/penguins.csv", max_rows=200, seed=0)
        >>> model.sample(3, seed=1).shape
        (3, 8)
    """
    from synthgen.models.base import new_seed
    from synthgen.models.registry import create, model_class

    if model == "auto":  # choosing needs the report, a floor above this one
        raise UsageError(
            "fit_file cannot choose a model: read the rows (synthgen.read_table) and call "
            "synthgen.fit(table, model='auto'), or run `synthgen fit FILE --model auto`"
        )
    model_class(model)  # an unknown or missing model fails before a long read
    seed = new_seed() if seed is None else seed
    rows = read_rows(
        source,
        max_rows=max_rows,
        seed=seed,
        schema=schema,
        decimal=decimal,
        na_values=na_values,
        encoding=encoding,
        delimiter=delimiter,
    )
    return create(model, **params).fit(rows.table, rows.schema, seed=seed, stream=rows.stream)
