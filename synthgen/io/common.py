"""What reading and writing share: the path that means standard input or output, the
formats and the lazy import of pyarrow."""

from __future__ import annotations

import os
from typing import Any

from synthgen.errors import MissingDependencyError

#: The path that means standard input (for reading) or standard output (for writing).
STDIO = "-"

FORMATS = ("csv", "parquet")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(
            "reading or writing Parquet needs pyarrow; pip install pyarrow"
        ) from None
    return pa, pq


def _is_stdout(dest: str | os.PathLike[str]) -> bool:
    return isinstance(dest, str) and dest == STDIO
