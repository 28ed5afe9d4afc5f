"""Writing an output chunk by chunk with bounded memory: `open_stream_writer` gives an
`AtomicStreamWriter`, whose file appears at its destination only when it is closed."""

from __future__ import annotations

import contextlib
import os
import sys
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pandas as pd

from synthgen.errors import OutputError
from synthgen.io.atomic import _commit, _discard, _make_temp, _os_error, check_writable
from synthgen.io.common import _is_stdout, _pyarrow
from synthgen.io.csv_fast import _CSV_OPTS, _csv_bytes
from synthgen.io.writing import (
    Formatters,
    _apply_formatters,
    _csv_to_stdout,
    _parquet_write_error,
    arrow_schema,
    output_format,
)


class AtomicStreamWriter:
    """Append DataFrame chunks to a CSV or Parquet output with bounded memory; the file appears
    at `dest` (atomically) only on `close()`. Use `open_stream_writer` to make one.

    CSV: the header is written once; later chunks are reordered to the first chunk's columns.
    Parquet: the schema is that of `schema` or of the first chunk; later chunks are converted to
    it (a chunk may also be a pyarrow Table of that schema). With `row_group_rows`, row groups
    hold exactly that many rows (the last one fewer) whatever the chunks' sizes, so the file's
    bytes do not depend on how it was chunked. Leaving a `with` block by an exception, or
    calling `abort()`, discards everything. On stdout ("-", CSV only) a closed pipe sets
    `broken_pipe` and later writes do nothing.
    """

    def __init__(
        self,
        dest: str | os.PathLike[str],
        format: str | None = None,
        force: bool = False,
        *,
        formatters: Formatters | None = None,
        schema: Any = None,
        row_group_rows: int | None = None,
    ) -> None:
        self.dest = dest
        self.format = output_format(dest, format)
        self.formatters = formatters
        self.rows = 0
        self.broken_pipe = False
        self._force = force
        self._columns: list[Any] | None = None
        self._schema = schema
        self._row_group_rows = row_group_rows
        self._pending: list[Any] = []  # tables not yet written, fewer rows than a row group
        self._pending_rows = 0
        self._pq_writer: Any = None
        self._fh: IO[str] | None = None
        self._tmp: Path | None = None
        self._closed = False
        self._header_done = False
        self._stdout = _is_stdout(dest)
        self._finalizer: weakref.finalize | None = None
        if self._stdout:
            if self.format != "csv":
                raise OutputError("Parquet can't be written to standard output; give a file path")
            return
        if self.format == "parquet":
            _pyarrow()
        check_writable(dest, force)
        try:
            self._tmp = _make_temp(Path(dest))
            # dropped without close() or abort(): remove the temp file, never publish it
            self._finalizer = weakref.finalize(self, _discard, self._tmp)
            if self.format == "csv":
                self._fh = open(self._tmp, "w", encoding="utf-8", newline="")
        except OSError as exc:
            self.abort()
            raise _os_error(exc, dest) from None

    def __enter__(self) -> AtomicStreamWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, chunk: pd.DataFrame | Any) -> None:
        """Append one chunk (a DataFrame with the same columns as the first, or for Parquet a
        pyarrow Table of the writer's schema)."""
        if self._closed:
            raise ValueError("write to a closed stream writer")
        if self.broken_pipe:
            return
        if not isinstance(chunk, pd.DataFrame):
            if self.format != "parquet":
                raise TypeError("only Parquet output takes pyarrow tables; write a DataFrame")
            self._write_guarded(chunk)
            return
        if self._columns is None:
            self._columns = list(chunk.columns)
        elif list(chunk.columns) != self._columns:
            if set(chunk.columns) != set(self._columns) or len(chunk.columns) != len(self._columns):
                raise ValueError(
                    f"chunk columns {list(chunk.columns)} differ from the first {self._columns}"
                )
            chunk = chunk[self._columns]
        self._write_guarded(chunk)

    def _write_guarded(self, chunk: pd.DataFrame | Any) -> None:
        try:
            self._write(chunk)
        except OSError as exc:
            self.abort()
            raise _os_error(exc, self.dest) from exc
        except BaseException:
            self.abort()
            raise
        self.rows += len(chunk)

    def _write(self, chunk: pd.DataFrame | Any) -> None:
        header = not self._header_done
        if self.format == "csv":
            out = _apply_formatters(chunk, self.formatters)
            if self._stdout:
                self.broken_pipe = not _csv_to_stdout(out, header=header, fast=True)
            else:
                assert self._fh is not None
                data = _csv_bytes(out, header)
                if data is None:
                    out.to_csv(self._fh, header=header, **_CSV_OPTS)
                else:
                    self._fh.flush()
                    self._fh.buffer.write(data)
            self._header_done = True
            return
        pa, pq = _pyarrow()
        try:
            if isinstance(chunk, pd.DataFrame):
                if self._schema is None:
                    self._schema = arrow_schema(chunk)
                table = pa.Table.from_pandas(chunk, schema=self._schema, preserve_index=False)
            else:
                if self._schema is None:
                    self._schema = chunk.schema
                table = chunk if chunk.schema == self._schema else chunk.cast(self._schema)
            if self._pq_writer is None:
                self._pq_writer = pq.ParquetWriter(str(self._tmp), self._schema)
            if self._row_group_rows is None:
                self._pq_writer.write_table(table)
                return
            self._pending.append(table)
            self._pending_rows += table.num_rows
            while self._pending_rows >= self._row_group_rows:
                self._write_row_group(self._row_group_rows)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise _parquet_write_error(exc, self.dest) from None

    def _write_row_group(self, rows: int) -> None:
        """Write the first `rows` pending rows as one row group, as one contiguous table (so
        the pages do not depend on where the chunks ended)."""
        pa, _ = _pyarrow()
        pending = pa.concat_tables(self._pending)
        self._pq_writer.write_table(pending.slice(0, rows).combine_chunks(), row_group_size=rows)
        rest = pending.slice(rows)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows -= rows

    def close(self) -> None:
        """Finish the file and move it onto `dest` (a no-op if already closed)."""
        if self._closed:
            return
        try:
            if self._stdout:
                if not self.broken_pipe:
                    with contextlib.suppress(BrokenPipeError):
                        sys.stdout.flush()
                self._closed = True
                return
            if self.format == "csv":
                assert self._fh is not None
                self._fh.flush()
                self._fh.close()
            else:
                if self._pq_writer is None:
                    if self._schema is None:
                        raise ValueError("no chunk written and no schema given: nothing to write")
                    pa, pq = _pyarrow()
                    self._pq_writer = pq.ParquetWriter(str(self._tmp), self._schema)
                if self._pending_rows:
                    pa, _ = _pyarrow()
                    try:
                        self._write_row_group(self._pending_rows)
                    except (pa.ArrowException, ValueError, TypeError) as exc:
                        raise _parquet_write_error(exc, self.dest) from None
                self._pq_writer.close()
            assert self._tmp is not None
            _commit(self._tmp, Path(self.dest), self._force)
            self._closed = True
            self._tmp = None
            if self._finalizer is not None:
                self._finalizer.detach()
        except OSError as exc:
            self.abort()
            raise _os_error(exc, self.dest) from exc
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Discard everything written; `dest` is left untouched. Safe to call more than once."""
        self._closed = True
        if self._fh is not None:
            with contextlib.suppress(OSError, ValueError):
                self._fh.close()
        if self._pq_writer is not None:
            with contextlib.suppress(Exception):
                self._pq_writer.close()
        if self._tmp is not None:
            _discard(self._tmp)
            self._tmp = None
        if self._finalizer is not None:
            self._finalizer.detach()


def open_stream_writer(
    dest: str | os.PathLike[str],
    format: str | None = None,
    force: bool = False,
    *,
    formatters: Formatters | None = None,
    schema: Any = None,
    row_group_rows: int | None = None,
) -> AtomicStreamWriter:
    """Open an `AtomicStreamWriter` (checks `dest` first, so it fails before any work).
    `schema` (a pyarrow.Schema) fixes Parquet column types up front; `row_group_rows` fixes
    the rows per Parquet row group.

    >>> with open_stream_writer("big.parquet", force=True) as w:  # doctest: +SKIP
    ...     for chunk in chunks:
    ...         w.write(chunk)
    """
    return AtomicStreamWriter(
        dest, format, force, formatters=formatters, schema=schema, row_group_rows=row_group_rows
    )
