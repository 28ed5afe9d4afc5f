"""Reading input tables and writing output files safely.

Reading: CSV/TSV (delimiter sniffed, every column kept as text exactly as written, NA markers
turned into nulls) and Parquet (typed, as pyarrow gives it). Writing: always atomic (a temp file in
the destination's directory, fsynced, then renamed over the destination), so an interrupted or
failed run never leaves a partial file and never clobbers an existing one.

>>> df = read_table("data.csv")                          # doctest: +SKIP
>>> write_table(df, "out.parquet", force=True)           # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import functools
import io
import itertools
import os
import re
import sys
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
import pandas as pd

from synthgen.errors import InputError, MissingDependencyError, OutputError, UsageError

__all__ = [
    "DEFAULT_NA_VALUES",
    "STDIO",
    "AtomicStreamWriter",
    "arrow_schema",
    "atomic_directory",
    "atomic_path",
    "check_dataset_writable",
    "check_writable",
    "iter_table_chunks",
    "open_stream_writer",
    "output_format",
    "read_table",
    "write_table",
]

#: The path that means standard input (for reading) or standard output (for writing).
STDIO = "-"

#: Cell texts (after stripping whitespace) read as missing: pandas' defaults plus "?", which
#: adult-style files (UCI) use for a missing value. The empty string is always missing too.
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
    }
)

FORMATS = ("csv", "parquet")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024
_SNIFF_RECORDS = 200
_DELIMITERS = (",", ";", "\t", "|")
_SCAN_BLOCK = 1 << 20

Formatters = Mapping[str, Callable[[Any], str]]


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


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
        raise InputError(f"{src.name} is UTF-16 text; pass --encoding utf-16")
    if head.startswith(b"\x1f\x8b"):
        raise InputError(f"{src.name} is gzip-compressed; decompress it first (gunzip)")
    if head.startswith(b"PK\x03\x04"):
        raise InputError(
            f"{src.name} is a zip archive (an Excel workbook?); export the sheet as CSV"
        )
    if b"\x00" in head:
        raise InputError(f"{src.name} looks like a binary file, not CSV or Parquet")
    return "utf-8-sig"


def _display_encoding(encoding: str) -> str:
    return "utf-8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding


def _decode_error(src: _Source, encoding: str, given: bool, exc: UnicodeError) -> InputError:
    """Build the one-line error for undecodable bytes, with the offset in the whole file."""
    enc = _display_encoding(encoding)
    fix = (
        "check --encoding (e.g. latin-1 or cp1252)"
        if given
        else "try --encoding latin-1 (or cp1252)"
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


def _sniff_delimiter(src: _Source, encoding: str) -> str:
    """Pick the candidate delimiter that splits the first records into the most consistent,
    widest rows (quotes respected); ',' when nothing splits."""
    text = src.head.decode(_display_encoding(encoding), errors="replace").lstrip("\ufeff")
    truncated = len(src.head) >= _SNIFF_BYTES
    best, best_key = ",", (0.0, 1)
    for delim in _DELIMITERS:
        reader = csv.reader(io.StringIO(text), delimiter=delim, quotechar='"', doublequote=True)
        try:
            rows = [r for r in itertools.islice(reader, _SNIFF_RECORDS) if r]
        except csv.Error:
            continue
        if truncated and len(rows) > 1 and len(rows) < _SNIFF_RECORDS:
            rows = rows[:-1]  # the last record may be cut off mid-way
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        key = (sum(len(r) == width for r in rows) / len(rows), width)
        if key > best_key:
            best, best_key = delim, key
    return best


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


def _header_names(row: pd.Series, name: str) -> list[str]:
    names = [str(v) for v in row.tolist()]
    seen: set[str] = set()
    for i, col in enumerate(names, start=1):
        if not col.strip():
            raise InputError(
                f"column {i} of {name} has an empty name; give it a name in the header row"
            )
        if col in seen:
            raise InputError(f"duplicate column name {col!r} in {name}; rename it")
        seen.add(col)
    return names


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
            "fix that row, or check --delimiter"
        )
    if m := re.search(r"EOF inside string starting at row (\d+)", msg):
        return InputError(
            f'{src.name} has an unclosed quote (") starting at row {m.group(1)}; fix the quoting'
        )
    first = msg.splitlines()[0] if msg else type(exc).__name__
    return InputError(f"cannot parse {src.name} as CSV: {first}")


def _csv_reader_args(
    src: _Source, encoding: str | None, delimiter: str | None
) -> tuple[dict[str, Any], bool]:
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
    return kwargs, given


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
    kwargs, given = _csv_reader_args(src, encoding, delimiter)
    nrows = None if max_rows is None else max_rows + 1
    with _csv_errors(src, kwargs, given):
        raw = pd.read_csv(src.pandas_arg(), nrows=nrows, **kwargs)
    if raw.empty and raw.shape[1] == 0:
        raise InputError(f"{src.name} is empty")
    names = _header_names(raw.iloc[0], src.name)
    if len(raw) < 2:
        raise InputError(f"{src.name} has a header but no rows")
    return _finish_chunk(raw.iloc[1:].copy(), names, _na_set(na_values), 0)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(
            "reading or writing Parquet needs pyarrow; pip install pyarrow"
        ) from None
    return pa, pq


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
    kwargs, given = _csv_reader_args(src, encoding, delimiter)
    na_set = _na_set(na_values)
    with _csv_errors(src, kwargs, given):
        head = pd.read_csv(src.pandas_arg(), nrows=1, **kwargs)
    if head.shape[1] == 0 or head.empty:
        raise InputError(f"{src.name} is empty")
    names = _header_names(head.iloc[0], src.name)
    width = len(names)
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
                "fix that row, or check --delimiter"
            )
        return _finish_chunk(raw.iloc[:, :width].copy(), names, na_set, start)

    try:
        with _csv_errors(src, kwargs, given, width):
            first = reader.get_chunk(chunk_rows + 1).iloc[1:]  # row 0 is the header
            if first.empty:
                raise InputError(f"{src.name} has a header but no rows")
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


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def _is_stdout(dest: str | os.PathLike[str]) -> bool:
    return isinstance(dest, str) and dest == STDIO


def output_format(dest: str | os.PathLike[str], format: str | None = None) -> str:
    """The output format: `format` if given ("csv" or "parquet"), else from dest's suffix
    (.parquet/.pq -> "parquet", anything else -> "csv").

    >>> output_format("out.pq"), output_format("out.txt"), output_format("-", "CSV")
    ('parquet', 'csv', 'csv')
    """
    if format is not None:
        fmt = format.strip().lower()
        if fmt not in FORMATS:
            raise OutputError(f"unknown output format {format!r}; use one of: {', '.join(FORMATS)}")
        return fmt
    if _is_stdout(dest):
        return "csv"
    return "parquet" if Path(dest).suffix.lower() in _PARQUET_SUFFIXES else "csv"


def check_writable(
    dest: str | os.PathLike[str],
    force: bool = False,
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Fail fast (OutputError) if `dest` can't be written: it exists and `force` is false, it is a
    directory, it is one of the `inputs` (never overwritten, even with `force`), or its directory
    is missing or not writable. "-" (stdout) always passes.

    >>> check_writable("out.csv", force=True, inputs=["data.csv"])  # doctest: +SKIP
    """
    if _is_stdout(dest):
        return
    path = Path(dest)
    if path.is_dir():
        raise OutputError(f"{dest} is a directory; give a file path to write to")
    if path.exists() and not path.is_file():
        # renaming a finished temp file onto it would replace the device or pipe itself
        raise OutputError(
            f"{dest} is not a regular file (a device or a pipe); write to a file, or to - for "
            "standard output"
        )
    for source in inputs:
        with contextlib.suppress(OSError):
            if not _is_stdout(source) and path.exists() and path.samefile(source):
                raise OutputError(f"{dest} is the input {source}; write the output elsewhere")
    if (path.exists() or path.is_symlink()) and not force:
        raise OutputError(f"{dest} exists; pass --force to overwrite")
    parent = path.parent
    if not parent.exists():
        raise OutputError(f"directory {parent} does not exist; create it first")
    if not parent.is_dir():
        raise OutputError(f"{parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to directory {parent}: permission denied")


def _os_error(exc: OSError, dest: str | os.PathLike[str]) -> OutputError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return OutputError(f"disk full while writing {dest}; free some space and retry")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return OutputError(f"cannot write {dest}: permission denied")
    if exc.errno == errno.EROFS:
        return OutputError(f"cannot write {dest}: read-only file system")
    return OutputError(f"cannot write {dest}: {exc.strerror or exc}")


def _file_mode() -> int:
    """Mode a plain `open(..., 'w')` would give a new file (0o666 minus the umask)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _make_temp(dest: Path) -> Path:
    """An empty temp file `.<name>.<random>.tmp` next to dest, with normal file permissions."""
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(name, _file_mode())
    return Path(name)


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(tmp: Path, dest: Path, force: bool) -> None:
    """fsync tmp and move it onto dest; without force, never replace a file that appeared
    meanwhile (hard link fails if dest exists; falls back to check-then-rename)."""
    _fsync_path(tmp)
    if force:
        os.replace(tmp, dest)
    else:
        try:
            os.link(tmp, dest)
        except FileExistsError:
            raise OutputError(f"{dest} exists; pass --force to overwrite") from None
        except OSError:  # no hard links here (some network/FUSE file systems)
            if dest.exists() or dest.is_symlink():
                raise OutputError(f"{dest} exists; pass --force to overwrite") from None
            os.replace(tmp, dest)
        else:
            _discard(tmp)
    with contextlib.suppress(OSError):
        _fsync_path(dest.parent, directory=True)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str], force: bool = False) -> Iterator[Path]:
    """Yield a temp path next to `dest`; when the block succeeds, fsync it and rename it onto
    `dest`. On any exception (Ctrl-C included) the temp file is removed and `dest` is left as it
    was; OSErrors become OutputError ("disk full while writing X", ...).

    >>> with atomic_path("model.sgm", force=True) as tmp:  # doctest: +SKIP
    ...     tmp.write_bytes(payload)
    """
    if _is_stdout(dest):
        raise ValueError("atomic_path needs a file path, not '-' (stdout)")
    path = Path(dest)
    check_writable(path, force)
    try:
        tmp = _make_temp(path)
    except OSError as exc:
        raise _os_error(exc, dest) from None
    try:
        yield tmp
        _commit(tmp, path, force)
    except OSError as exc:
        _discard(tmp)
        raise _os_error(exc, dest) from exc
    except BaseException:
        _discard(tmp)
        raise


#: Files a dataset directory may hold for `--force` to replace it (anything else: refused).
_DATASET_FILE = re.compile(r"^(part-\d+\.parquet|\..*\.tmp)$")


def check_dataset_writable(dest: str | os.PathLike[str], force: bool = False) -> None:
    """Fail fast (OutputError) if a dataset directory can't be written at `dest`: it exists
    and `force` is false, it is a file, it holds files that are not dataset parts (never
    deleted, even with `force`), or its parent is missing or not writable."""
    path = Path(dest)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{dest} is a file; give a directory path for a partitioned dataset")
    if path.is_dir():
        if not force:
            raise OutputError(f"{dest} exists; pass --force to overwrite")
        others = [p.name for p in path.iterdir() if not _DATASET_FILE.match(p.name)]
        if others:
            raise OutputError(
                f"{dest} holds files that are not dataset parts ({others[0]}, ...); "
                "refusing to replace it, give another directory"
            )
    parent = path.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to directory {parent}: permission denied")


@contextlib.contextmanager
def atomic_directory(dest: str | os.PathLike[str], force: bool = False) -> Iterator[Path]:
    """Yield a new empty temp directory next to `dest`; when the block succeeds, rename it to
    `dest` (with `force`, an existing dataset there is moved aside first and then deleted). On
    any exception the temp directory is removed and `dest` is left as it was.

    >>> with atomic_directory("out", force=True) as tmp:  # doctest: +SKIP
    ...     (tmp / "part-00000.parquet").write_bytes(data)
    """
    import shutil

    path = Path(dest).absolute()
    check_dataset_writable(path, force)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        os.chmod(tmp, _file_mode() | 0o111)
    except OSError as exc:
        raise _os_error(exc, dest) from None
    try:
        yield tmp
        _fsync_path(tmp, directory=True)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old)  # old is an empty directory: rename replaces it
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
        with contextlib.suppress(OSError):
            _fsync_path(path.parent, directory=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise OutputError(f"{dest} exists; pass --force to overwrite") from None
        raise _os_error(exc, dest) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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


_CSV_OPTS: dict[str, Any] = {"index": False, "lineterminator": "\n", "na_rep": ""}


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


@functools.cache
def _csv_special() -> str:
    """The characters that make Python's csv writer (which pandas uses) quote a field, as a
    regex class: the delimiter, the quote and the line end, and on some versions also '\r'."""
    probe = io.StringIO()
    csv.writer(probe, lineterminator="\n").writerow(["\r", "x"])
    return '[",\n\r]' if probe.getvalue().startswith('"') else '[",\n]'


def _csv_bytes(df: pd.DataFrame, header: bool) -> bytes | None:
    """The CSV text pandas' to_csv (with _CSV_OPTS) writes for df, made by pyarrow's kernels
    instead, about ten times faster; None for a frame it can't match byte for byte (dates,
    objects other than text, a single column), which pandas then writes."""
    if df.shape[1] < 2:  # Python's csv quotes a lone empty field; leave that to it
        return None
    fields = [_csv_fields(df.iloc[:, i]) for i in range(df.shape[1])]
    if any(f is None for f in fields):
        return None
    pa, _ = _pyarrow()
    import pyarrow.compute as pc

    head = b""
    if header:
        names = _csv_fields(pd.Series([str(c) for c in df.columns], dtype=object))
        head = (",".join(names.to_pylist()) + "\n").encode("utf-8")
    if not len(df):
        return head
    text = functools.partial(pa.scalar, type=pa.large_string())
    last = pc.binary_join_element_wise(
        fields[-1], text("\n"), text(""), null_handling="replace"
    )  # the line end rides on the last field
    lines = pc.binary_join_element_wise(*fields[:-1], last, text(","), null_handling="replace")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return head + lines.buffers()[2].to_pybytes()[start:end]


def _csv_fields(values: pd.Series) -> Any:
    """A column's CSV fields as a pyarrow large_string array (null: an empty field), as
    to_csv writes them; None when the column's type is not one this matches."""
    pa, _ = _pyarrow()
    import pyarrow.compute as pc

    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        texts = _csv_fields(pd.Series(dtype.categories))
        if texts is None:
            return None
        codes = values.cat.codes.to_numpy()
        return texts.take(pa.array(codes, mask=codes < 0))
    if pd.api.types.is_bool_dtype(dtype):
        mask = values.isna().to_numpy()
        truth = values.to_numpy(dtype=bool, na_value=False).astype(np.int8)
        return pa.array(["False", "True"], pa.large_string()).take(pa.array(truth, mask=mask))
    if pd.api.types.is_integer_dtype(dtype):
        return pc.cast(pa.array(values, from_pandas=True), pa.large_string())
    if pd.api.types.is_float_dtype(dtype):
        # numpy's float text is what to_csv writes (shortest repr, of float32 too)
        x = values.to_numpy(dtype=getattr(dtype, "numpy_dtype", dtype), na_value=np.nan)
        return pa.array(x.astype(str), pa.large_string(), mask=np.isnan(x))
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        try:
            text = pa.array(values, pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None  # not all text: numbers, dates... as objects
        special = pc.match_substring_regex(text, _csv_special())
        if pc.any(special).as_py():
            quote, empty = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
            doubled = pc.replace_substring(text, '"', '""')
            text = pc.if_else(
                special, pc.binary_join_element_wise(quote, doubled, quote, empty), text
            )
        return text
    return None


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
