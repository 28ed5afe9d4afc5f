"""A table with each column in its natural pandas dtype, read through the schema.

`read_table` keeps CSV text exactly as written, and a model's `.sample()` writes dates in their
input format; libraries outside synthgen (SDV, SDMetrics) want numbers as numbers and dates as
datetimes instead. The values are parsed by the column modules themselves, so "3", 3 and 3.0 are
one value, and a date is read with the column's format.

| kind        | typed as                                                                     |
|-------------|------------------------------------------------------------------------------|
| numeric     | Int64 for integer columns (within 2**53), else float64 (NaN for null)        |
| datetime    | datetime64[ns], naive UTC; float seconds since 1970 outside pandas' 1677-2262 |
| boolean     | pandas "boolean" (True/False/NA), whatever the spelling                      |
| categorical | the keys as they are (object, None for null)                                 |
| other kinds | unchanged                                                                    |

Example:
    >>> import pandas as pd
    >>> from synthgen.schema import detect
    >>> raw = pd.DataFrame({"n": ["1", "2", None], "when": ["2020-01-02", None, "2021-03-04"]})
    >>> typed = typed_frame(raw, detect(raw))
    >>> [str(t) for t in typed.dtypes]
    ['Int64', 'datetime64[ns]']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgen.columns import boolean, categorical, datetime, numeric
from synthgen.columns.base import null_mask
from synthgen.schema import Column, Schema

# Seconds since 1970 that datetime64[ns] can hold (about 1677-09-22 to 2262-04-11).
_NS_SECONDS = (np.iinfo(np.int64).max // 10**9) - 1


def typed_column(values: pd.Series, col: Column) -> pd.Series:
    """One column in its natural dtype (see the module's table)."""
    if col.kind == "numeric":
        x = numeric.to_float(values, col)
        finite = x[np.isfinite(x)]
        exact = not len(finite) or np.abs(finite).max() < 2**53
        if col.integer and exact and np.array_equal(finite, np.round(finite)):
            missing = ~np.isfinite(x)
            ints = np.where(missing, 0, x).astype(np.int64)
            out = pd.arrays.IntegerArray(ints, missing)
            return pd.Series(out, index=values.index, name=values.name)
        return pd.Series(x, index=values.index, name=values.name)
    if col.kind == "datetime":
        return _datetimes(datetime.to_seconds(values, col), values)
    if col.kind == "boolean":
        out = pd.arrays.BooleanArray(boolean._is_true(values, col), null_mask(values))
        return pd.Series(out, index=values.index, name=values.name)
    if col.kind == "categorical":
        return categorical._key(values)
    return values


def _datetimes(seconds: np.ndarray, like: pd.Series) -> pd.Series:
    finite = seconds[np.isfinite(seconds)]
    if len(finite) and np.abs(finite).max() > _NS_SECONDS:
        return pd.Series(seconds, index=like.index, name=like.name)
    micros = np.rint(np.nan_to_num(seconds) * 1e6).astype(np.int64)
    stamps = micros.astype("datetime64[us]").astype("datetime64[ns]")
    stamps[np.isnan(seconds)] = np.datetime64("NaT")
    return pd.Series(stamps, index=like.index, name=like.name)


def typed_frame(table: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Every column of `table` typed by its schema column (same names, same order, same index)."""
    return pd.DataFrame(
        {col.name: typed_column(table[col.name], col) for col in schema.columns},
        index=table.index,
    )
