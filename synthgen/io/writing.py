"""Writing a whole table atomically as CSV or Parquet, or as CSV to standard output.

>>> write_table(df, "out.parquet", force=True)           # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from synthgen.errors import OutputError, option
from synthgen.io.atomic import atomic_path
from synthgen.io.common import _PARQUET_SUFFIXES, FORMATS, _is_stdout, _pyarrow
from synthgen.io.csv_fast import _CSV_OPTS, _csv_bytes

Formatters = Mapping[str, Callable[[Any], str]]


def output_format(dest: str | os.PathLike[str], format: str | None = None) -> str:
    """The output format: `format` if given ("csv" or "parquet"), else from dest's suffix
    (.csv -> "csv", .parquet/.pq -> "parquet"); any other suffix is refused (OutputError)
    before anything is written: `out.xlsx` would otherwise be CSV text under an Excel name.

    >>> output_format("out.pq"), output_format("out.csv"), output_format("-", "CSV")
    ('parquet', 'csv', 'csv')
    """
    if format is not None:
        fmt = format.strip().lower()
        if fmt not in FORMATS:
            raise OutputError(f"unknown output format {format!r}; use one of: {', '.join(FORMATS)}")
        return fmt
    if _is_stdout(dest):
        return "csv"
    suffix = Path(dest).suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix == ".csv":
        return "csv"
    given = f"the extension {suffix}" if suffix else "no extension"
    fix = option("--format csv", "format='csv'")
    raise OutputError(
        f"cannot tell what to write to {dest}: it has {given}; name it .csv or .parquet, or "
        f"pass {fix}"
    )


def _apply_formatters(df: pd.DataFrame, formatters: Formatters | None) -> pd.DataFrame:
    if not formatters:
        return df
    unknown = [c for c in formatters if c not in df.columns]
    if unknown:
        raise ValueError(f"formatters given for columns not in the table: {unknown}")
    out = df.copy(deep=False)
    for col, fn in formatters.items():
        out[col] = df[col].astype(object).map(fn, na_action="ignore")
    return out


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _csv_to_stdout(df: pd.DataFrame, header: bool, fast: bool = False) -> bool:
    """Write df as CSV to stdout; False (quietly) if the reader went away (`| head`)."""
    data = _csv_bytes(df, header) if fast else None
    try:
        if data is None:
            df.to_csv(sys.stdout, header=header, **_CSV_OPTS)
        elif hasattr(sys.stdout, "buffer"):
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return False
    return True


def _parquet_write_error(exc: Exception, dest: str | os.PathLike[str]) -> OutputError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return OutputError(f"cannot write {dest} as Parquet: {reason}")


def write_table(
    df: pd.DataFrame,
    dest: str | os.PathLike[str],
    *,
    format: str | None = None,
    force: bool = False,
    formatters: Formatters | None = None,
) -> None:
    """Write `df` atomically as CSV or Parquet (see `output_format`), or as CSV to stdout ("-").

    CSV: no index, "\\n" line ends, nulls as empty cells, utf-8. `formatters` maps a column to a
    function turning each non-null value into its CSV text (CSV only; Parquet keeps types).
    Raises OutputError if dest exists without `force`, can't be written, or the disk fills.

    >>> write_table(df, "synthetic.csv", force=True)  # doctest: +SKIP
    """
    fmt = output_format(dest, format)
    if _is_stdout(dest):
        if fmt != "csv":
            raise OutputError("Parquet can't be written to standard output; give a file path")
        _csv_to_stdout(_apply_formatters(df, formatters), header=True)
        return
    with atomic_path(dest, force) as tmp:
        if fmt == "csv":
            out = _apply_formatters(df, formatters)
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                out.to_csv(fh, **_CSV_OPTS)
        else:
            pa, pq = _pyarrow()
            try:
                table = pa.Table.from_pandas(df, preserve_index=False)
                pq.write_table(table, str(tmp))
            except (pa.ArrowException, ValueError, TypeError) as exc:
                raise _parquet_write_error(exc, dest) from None


def arrow_schema(frame: pd.DataFrame) -> Any:
    """The pyarrow schema a frame is written to Parquet with: pyarrow's own, except that a
    column of nothing but nulls (type null, which no later value fits) becomes text.

    >>> arrow_schema(pd.DataFrame({"a": [1, 2], "b": [None, None]})).types  # doctest: +SKIP
    [DataType(int64), DataType(string)]
    """
    pa, _ = _pyarrow()
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(schema):
        if pa.types.is_null(field.type):
            schema = schema.set(i, field.with_type(pa.string()))
    return schema
