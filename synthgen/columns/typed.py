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

from typing import TYPE_CHECKING

import pandas as pd

from synthgen.columns import KINDS
from synthgen.columns.base import Column

if TYPE_CHECKING:
    from synthgen.schema import Schema


def typed_column(values: pd.Series, col: Column) -> pd.Series:
    """One column in its natural dtype (see the module's table): its kind's `typed`."""
    return KINDS[col.kind].typed(values, col)


def typed_frame(table: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Every column of `table` typed by its schema column (same names, same order, same index)."""
    return pd.DataFrame(
        {col.name: typed_column(table[col.name], col) for col in schema.columns},
        index=table.index,
    )
