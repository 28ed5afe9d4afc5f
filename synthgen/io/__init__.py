"""Reading input tables and writing output files safely.

Reading (`synthgen.io.reading`): CSV/TSV (delimiter sniffed, every column kept as text exactly as
written, NA markers turned into nulls) and Parquet (typed, as pyarrow gives it), whole or in
chunks. Writing is always atomic (`synthgen.io.atomic`: a temp file in the destination's
directory, fsynced, then renamed over the destination), so an interrupted or failed run never
leaves a partial file and never clobbers an existing one: a whole table (`synthgen.io.writing`),
or chunk by chunk with bounded memory (`synthgen.io.stream_writer`); CSV goes through the fast
writer (`synthgen.io.csv_fast`) where it matches pandas byte for byte.

>>> df = read_table("data.csv")                          # doctest: +SKIP
>>> write_table(df, "out.parquet", force=True)           # doctest: +SKIP
"""

from synthgen.io.atomic import (
    atomic_directory,
    atomic_path,
    atomic_paths,
    check_dataset_writable,
    check_writable,
)
from synthgen.io.common import STDIO
from synthgen.io.reading import DEFAULT_NA_VALUES, iter_table_chunks, read_table
from synthgen.io.stream_writer import AtomicStreamWriter, open_stream_writer
from synthgen.io.writing import arrow_schema, output_format, write_table

__all__ = [
    "DEFAULT_NA_VALUES",
    "STDIO",
    "AtomicStreamWriter",
    "arrow_schema",
    "atomic_directory",
    "atomic_path",
    "atomic_paths",
    "check_dataset_writable",
    "check_writable",
    "iter_table_chunks",
    "open_stream_writer",
    "output_format",
    "read_table",
    "write_table",
]
