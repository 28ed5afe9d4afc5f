"""Column kinds, their detection, and the JSON schema a user can edit and pass back.

A schema says, per column, what kind of values it holds and how they are written, so that synthetic
rows come back in the same shape: ints as ints, decimals kept, dates in the format they were written in.

Example:
    >>> import pandas as pd
    >>> from synthgen.schema import detect
    >>> schema = detect(pd.DataFrame({"age": ["39", "50", None], "sex": ["F", "M", "F"]}))
    >>> [(c.name, c.kind) for c in schema.columns]
    [('age', 'numeric'), ('sex', 'categorical')]
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.errors import SchemaError, UsageError

if TYPE_CHECKING:
    from synthgen.rules import Rule

KINDS = ("numeric", "categorical", "boolean", "datetime", "id", "constant", "text")

# Text spellings of booleans, lower-cased; the pair as written is kept in the schema.
_BOOL_PAIRS = [("true", "false"), ("yes", "no"), ("t", "f"), ("y", "n")]

# A column whose distinct values are more than this share of its rows is not categorical.
_CATEGORICAL_MAX_SHARE = 0.5
# A category seen in fewer rows than this is rare (the default rare-category threshold).
_RARE_ROWS = 5
_ID_NAME = re.compile(r"(^|[_\s-])(id|key|uuid|guid|code)$|^id[_\s-]|(?<=[a-z])Id$|ID$", re.I)
_INTEGER = re.compile(r"^[+-]?\d+$")
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")
# Numbers written with a thousands separator, keyed by (separator, decimal mark): "1,234.5" and
# "1.234,5". Each value must match, except that with "," separators a plain number ("12.5") is
# fine too. Plain numbers ("-1.5e3", "inf") are whatever pandas.to_numeric reads.
_GROUPED = {
    (",", None): re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"),
    (".", ","): re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"),
}
# Integers beyond int64 can't be decoded as integers; such columns are keys or categories.
_INT64 = 2.0**63

# Date and time formats tried in order; the first under which every value parses wins.
DATETIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%d-%b-%Y",
    "%b %d, %Y",
    "%d %b %Y",
    "%Y%m%d",
)


@dataclass
class Column:
    """One column's kind and the facts needed to write its values back as they were written.

    Only the fields that matter for a kind are set; the rest stay None.
    """

    name: str
    kind: str
    null_rate: float = 0.0
    # numeric
    integer: bool | None = None
    decimals: int | None = None
    thousands: str | None = None  # separator as written ("1,234": ","); None when not used
    decimal: str | None = None  # decimal mark when it is not "." ("1,5": ",")
    min: float | None = None
    max: float | None = None
    # categorical: an explicit order (ordered categories); detected categories live in the model
    categories: list[Any] | None = None
    ordered: bool | None = None
    # boolean: how true and false are written ("True"/"False", "yes"/"no", ...)
    true_value: Any = None
    false_value: Any = None
    # datetime: strftime format as written (None when the input was a datetime dtype), timezone
    format: str | None = None
    timezone: str | None = None
    # id: the shape of the keys ("integer", or a pattern such as "AAA-999")
    pattern: str | None = None
    # constant
    value: Any = None
    # what the input looked like: "text" when read from text (CSV), else the pandas dtype name
    source_dtype: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Column:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SchemaError(
                f"unknown schema field(s) {sorted(unknown)} in column {data.get('name')!r}"
            )
        if "name" not in data or "kind" not in data:
            raise SchemaError(f"every schema column needs 'name' and 'kind': {data}")
        if data["kind"] not in KINDS:
            raise SchemaError(
                f"column {data['name']!r}: unknown kind {data['kind']!r}; use one of {', '.join(KINDS)}"
            )
        return cls(**data)


@dataclass
class Schema:
    """The columns of a table, in order, and the rules its rows keep (see `synthgen.rules`)."""

    columns: list[Column] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "columns": [c.to_dict() for c in self.columns],
            "rules": [r.to_dict() for r in self.rules],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_json_default)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
            raise SchemaError(
                "a schema is a JSON object with a 'columns' list (see `synthgen schema`)"
            )
        from synthgen.rules.model import Rule

        rules = data.get("rules", [])
        if not isinstance(rules, list):
            raise SchemaError("a schema's 'rules' is a list (see `synthgen schema`)")
        return cls(
            [Column.from_dict(c) for c in data["columns"]], [Rule.from_dict(r) for r in rules]
        )

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SchemaError(f"cannot read schema file {path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"schema file {path} is not valid JSON: {exc}") from None
        return cls.from_dict(data)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


# --------------------------------------------------------------------------------------------
# Detection


def detect(
    table: pd.DataFrame, overrides: Schema | None = None, *, decimal: str | None = None
) -> Schema:
    """Detect each column's kind; columns named in `overrides` take the user's settings instead.

    An override may give only `name` and `kind`: the facts it leaves out (bounds, formats) are
    detected under the kind it names. `decimal` ("." or ",") is the decimal mark of numbers
    written as text; None detects it per column ("1,5" reads as 1.5, "1,234" as 1234).

    Example:
        >>> detect(pd.DataFrame({"x": ["1,5", "2,25"]}), decimal=",")["x"].decimal
        ','
    """
    if decimal not in (None, ".", ","):
        raise UsageError(f"the decimal mark must be '.' or ',' (got {decimal!r})")
    check_names(table)
    given = {c.name: c for c in overrides.columns} if overrides else {}
    missing = set(given) - set(map(str, table.columns))
    if missing:
        raise SchemaError(f"schema names column(s) not in the table: {sorted(missing)}")
    columns = []
    for name in table.columns:
        series = table[name]
        override = given.get(str(name))
        col = detect_column(
            series,
            kind=override.kind if override else None,
            decimal=override.decimal if override and override.decimal else decimal,
        )
        if override is not None:
            for f in fields(Column):
                value = getattr(override, f.name)
                if value is not None and f.name != "null_rate":
                    setattr(col, f.name, value)
        columns.append(col)
    schema = Schema(columns)
    from synthgen.rules import table_rules

    schema.rules = table_rules(table, schema, overrides)
    return schema


def check_names(table: pd.DataFrame) -> None:
    """Refuse a table whose column names repeat (a column must be found by its name)."""
    names = pd.Index([str(c) for c in table.columns])
    if names.has_duplicates:
        dupes = sorted(set(names[names.duplicated()]))
        raise SchemaError(
            f"duplicate column name(s) {', '.join(map(repr, dupes))}; give each column its own name"
        )


def detect_column(series: pd.Series, kind: str | None = None, decimal: str | None = None) -> Column:
    """Detect one column; with `kind`, only fill in that kind's facts. `decimal` as in `detect`."""
    name = str(series.name)
    n = len(series)
    notnull = series[series.notna()]
    null_rate = float(1 - len(notnull) / n) if n else 0.0
    source = "text" if _is_text(series) else str(series.dtype)
    col = Column(name=name, kind="constant", null_rate=round(null_rate, 6), source_dtype=source)

    if len(notnull) == 0:
        col.kind = kind or "constant"
        return col

    text = _Distinct(notnull, decimal) if _is_text(notnull) else None
    if kind is None:
        kind = _guess_kind(name, notnull, text)
    col.kind = kind
    _fill(col, notnull, text)
    return col


def refine(col: Column, values: pd.Series) -> None:
    """Recompute a numeric, datetime or boolean column's facts (bounds, integer, decimals,
    format check, true/false spelling) from `values`: every distinct non-null value of the
    whole column, when its kind was detected on a sample of the rows. Raises SchemaError when
    a value does not fit the kind (a word in a numeric column).

    Example:
        >>> col = Column(name="x", kind="numeric", integer=True, decimals=0, min=1, max=9)
        >>> refine(col, pd.Series(["0.5", "12"]))
        >>> (col.integer, col.decimals, col.min, col.max)
        (False, 1, 0.5, 12)
    """
    if col.kind in ("numeric", "datetime", "boolean") and len(values):
        _fill(col, values, _Distinct(values, col.decimal) if _is_text(values) else None)


def _fill(col: Column, values: pd.Series, text: _Distinct | None) -> None:
    """Fill in the facts of the column's kind from its non-null values."""
    if col.kind == "numeric":
        _fill_numeric(col, values, text)
    elif col.kind == "id":
        _fill_id(col, values, text)
    else:
        filler = {
            "datetime": _fill_datetime,
            "boolean": _fill_boolean,
            "constant": _fill_constant,
        }.get(col.kind)
        if filler is not None:
            filler(col, values)


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


class _Distinct:
    """A text column's distinct values, each looked at once (a 32k-row column often has a few
    dozen), and how they read as numbers; shared by guessing the kind and filling in its facts."""

    def __init__(self, values: pd.Series, decimal: str | None):
        self.text = [str(v) for v in pd.unique(values.to_numpy(dtype=object))]
        self.stripped = [t.strip() for t in self.text]
        self.decimal = decimal
        self._numbers: Any = False

    def numbers(
        self, decimal: str | None = None
    ) -> tuple[np.ndarray, str | None, str | None] | None:
        """`_read_numbers` of the stripped values (under `decimal`, else the detection's)."""
        if decimal is not None and decimal != self.decimal:
            return _read_numbers(self.stripped, decimal)
        if self._numbers is False:
            self._numbers = _read_numbers(self.stripped, self.decimal)
        return self._numbers


def _guess_kind(name: str, values: pd.Series, text: _Distinct | None = None) -> str:
    if pd.api.types.is_bool_dtype(values.dtype):
        return "boolean"
    n_unique = len(text.text) if text is not None else values.nunique()
    if n_unique == 1:
        return "constant"
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "datetime"
    if isinstance(values.dtype, pd.CategoricalDtype):
        return "categorical"
    if text is None:
        if pd.api.types.is_integer_dtype(values.dtype) and _looks_like_id(
            name, values, n_unique, len(values)
        ):
            return "id"
        return "numeric" if pd.api.types.is_numeric_dtype(values.dtype) else "categorical"
    stripped = text.stripped
    if n_unique == 2 and _bool_pair(stripped) is not None:
        return "boolean"
    found = text.numbers()
    if found is not None and np.isfinite(found[0]).any():
        numbers, thousands, mark = found
        integer, _ = _integer_decimals(stripped, numbers, thousands, mark)
        if integer and thousands is None and _yyyymmdd(stripped):
            return "datetime"
        if not (integer and np.abs(numbers).max() >= _INT64):
            if integer and _looks_like_id(name, pd.Series(numbers), n_unique, len(values)):
                return "id"
            return "numeric"
    if _datetime_format(pd.Series(stripped, dtype=object)) is not None:
        return "datetime"
    counts = pd.factorize(values.to_numpy(dtype=object))[0]
    counts = np.bincount(counts[counts >= 0])
    has_space = any(map(_SPACE.search, text.text))
    if n_unique > 20 and counts[counts < _RARE_ROWS].sum() > 0.5 * len(values):
        # mostly values seen in a handful of rows: keys or free text, not categories
        return "text" if has_space else "id"
    if n_unique <= max(20, _CATEGORICAL_MAX_SHARE * len(values)):
        return "categorical"
    lengths = np.fromiter(map(len, text.text), dtype=np.int64, count=len(text.text))
    if n_unique < len(values) * 0.9 and lengths.mean() < 40:
        return "categorical"
    return "text" if has_space or lengths.max() > 64 else "id"


def _looks_like_id(name: str, values: pd.Series, n_unique: int, n_rows: int) -> bool:
    """Unique integers that are named like a key or run as a near-contiguous sequence."""
    if n_unique != n_rows or n_rows < 20:
        return False
    if _ID_NAME.search(name):
        return True
    span = float(values.max()) - float(values.min()) + 1
    return span <= 1.05 * len(values)


def _bool_pair(uniques: Any) -> tuple[str, str] | None:
    lowered = {str(u).lower(): str(u) for u in uniques}
    for true, false in _BOOL_PAIRS:
        if set(lowered) == {true, false}:
            return lowered[true], lowered[false]
    return None


def _read_numbers(
    text: list[str], decimal: str | None = None
) -> tuple[np.ndarray, str | None, str | None] | None:
    """(floats, thousands separator, decimal mark) when every stripped text is a number written
    one way; None when not. `decimal` "," tries "1.234,5" first, "." never tries it, None tries
    plain, then "1,234.5", then "1.234,5" (so "1,234" reads as 1234, and "1,5" as 1.5).

    Example:
        >>> _read_numbers(["1,5", "12"])
        (array([ 1.5, 12. ]), None, ',')
    """
    from synthgen.columns.numeric import parse_numbers

    plain = parse_numbers(text)
    styles: list[tuple[str | None, str | None]] = [(None, None), (",", None), (".", ",")]
    if decimal == ",":
        styles = [(".", ","), (None, None)]
    elif decimal == ".":
        styles = styles[:2]
    for thousands, mark in styles:
        if thousands is None:
            if not np.isnan(plain).any():
                return plain, None, None
            continue
        pattern = _GROUPED[(thousands, mark)]
        if mark is None:  # grouped, or plain without a comma
            ok = all(
                pattern.match(t) or ("," not in t and not np.isnan(x)) for t, x in zip(text, plain)
            )
        else:
            ok = all(pattern.match(t) for t in text)
        grouped = any(thousands in t for t in text)
        if ok and (grouped or any(mark in t for t in text if mark)):
            numbers = parse_numbers(text, thousands=thousands, decimal=mark)
            if not np.isnan(numbers).any():
                return numbers, thousands if grouped else None, mark
    return None


def _integer_decimals(
    text: list[str], numbers: np.ndarray, thousands: str | None, mark: str | None
) -> tuple[bool, int | None]:
    """Whether the numbers are whole (also "181.0", as pandas writes an int column with nulls),
    and the decimals they are written with (None: full precision, as for "1.5e-3")."""
    finite = np.isfinite(numbers)
    if not finite.any():
        return False, 0
    joined = "\n".join(text)
    if "e" in joined or "E" in joined:  # exponents: only finite texts can hold an e
        return False, _float_decimals(numbers[finite])
    x = numbers[finite]
    if (x == np.round(x)).all():
        return True, 0
    point = mark or "."
    # digits after the decimal mark (0 where there is none), without a Python loop per value
    lengths = np.fromiter(map(len, text), dtype=np.int64, count=len(text))
    where = np.fromiter(map(str.rfind, text, repeat(point)), dtype=np.int64, count=len(text))
    return False, int(np.where(where >= 0, lengths - where - 1, 0).max())


def _yyyymmdd(text: list[str]) -> bool:
    """Integer-coded dates (20240131): eight digits that all read as dates."""
    return (
        all(len(t) == 8 and t.isdigit() for t in text)
        and _datetime_format(pd.Series(text, dtype=object)) == "%Y%m%d"
    )


def _fill_numeric(col: Column, values: pd.Series, text: _Distinct | None = None) -> None:
    if text is not None:
        found = text.numbers(col.decimal)
        if found is None:
            from synthgen.columns.numeric import parse_numbers

            plain = parse_numbers(text.stripped)
            bad = text.stripped[int(np.flatnonzero(np.isnan(plain))[0])]
            raise SchemaError(
                f"column {col.name!r} is numeric but has the value {bad!r}; fix that value, "
                "or give the column another kind in a --schema file"
            )
        numbers, col.thousands, col.decimal = found
        col.integer, col.decimals = _integer_decimals(
            text.stripped, numbers, col.thousands, col.decimal
        )
    else:
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        col.integer = bool(pd.api.types.is_integer_dtype(values.dtype))
        col.decimals = 0 if col.integer else _float_decimals(numbers)
    finite = numbers[np.isfinite(numbers)]
    if col.integer and len(finite) and np.abs(finite).max() >= _INT64:
        col.integer = False  # decoded as floats: int64 can't hold them
    if len(finite):
        col.min, col.max = _plain(finite.min()), _plain(finite.max())
    if col.integer and len(finite) and np.abs(finite).max() >= 2**53:
        col.min, col.max = _exact_bounds(col, values, text, np.isfinite(numbers))


def _exact_bounds(
    col: Column, values: pd.Series, text: _Distinct | None, finite: np.ndarray
) -> tuple[int, int]:
    """Integer bounds exactly: past 2**53, floats skip integers (and would let a sample pass
    the real maximum by one)."""
    if text is None:
        ints = values.to_numpy(dtype=np.int64)
        return int(ints.min()), int(ints.max())
    written = [t for t, ok in zip(text.stripped, finite) if ok]
    if col.thousands:
        written = [t.replace(col.thousands, "") for t in written]
    ints = [int(t.partition(col.decimal or ".")[0]) for t in written]  # "181.0" is 181
    return min(ints), max(ints)


def _plain(value: Any) -> float | int:
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _float_decimals(values: np.ndarray, limit: int = 8) -> int | None:
    """The fewest decimals that write every value exactly; None when floats need full precision."""
    finite = values[np.isfinite(values)][:10000]
    for d in range(limit + 1):
        if np.allclose(np.round(finite, d), finite, rtol=0, atol=10.0 ** -(d + 6)):
            return d
    return None


def _datetime_format(text: pd.Series) -> str | None:
    sample = text.drop_duplicates()
    sample = sample.iloc[:500] if len(sample) > 500 else sample
    if not len(sample) or not _DIGIT.search(str(sample.iloc[0])):
        return None  # every format has digits: words are no dates, whatever the format
    from datetime import datetime

    for fmt in DATETIME_FORMATS:
        if fmt == "%Y%m%d" and not sample.str.match(r"^(1[5-9]|2[01])\d{2}[01]\d[0-3]\d$").all():
            continue
        try:
            for value in sample:
                datetime.strptime(value, fmt)
        except ValueError:
            continue
        return fmt
    return None


def _fill_datetime(col: Column, values: pd.Series) -> None:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        tz = getattr(values.dtype, "tz", None)
        col.timezone = str(tz) if tz is not None else None
        epoch = _datetime64_seconds(values)
    else:
        text = values.astype(str).str.strip()
        if col.format is None:
            col.format = _datetime_format(text)
        if col.format is None:
            raise SchemaError(
                f"column {col.name!r} is datetime but its values match no known format; "
                'give one in the schema, e.g. "format": "%d/%m/%Y"'
            )
        from synthgen.columns.datetime import parse_text

        epoch = parse_text(text, col.format, col.name)
    col.min, col.max = _plain(np.nanmin(epoch)), _plain(np.nanmax(epoch))


def _datetime64_seconds(values: pd.Series) -> np.ndarray:
    """Seconds since 1970 (UTC), as floats, for a datetime64 series of any unit or timezone."""
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    ints = values.to_numpy().astype("datetime64[us]").astype(np.int64)
    return ints / 1e6


def _fill_boolean(col: Column, values: pd.Series) -> None:
    if pd.api.types.is_bool_dtype(values.dtype):
        col.true_value, col.false_value = True, False
        return
    pair = _bool_pair(values.astype(str).str.strip().unique())
    if pair is None:
        pair = _bool_pair(values.astype(str).unique())
    if pair is None:
        raise SchemaError(
            f"column {col.name!r} is boolean but its values are not a true/false pair"
        )
    col.true_value, col.false_value = pair


def _fill_id(col: Column, values: pd.Series, text: _Distinct | None = None) -> None:
    from synthgen.columns.identifier import shape_of

    if text is None:
        ints = values.tolist() if pd.api.types.is_integer_dtype(values.dtype) else None
    elif all(_INTEGER.match(t) for t in text.stripped):
        ints = [int(t) for t in text.stripped]  # exact, also past 2**53
    else:
        ints = None
    if ints is not None and -_INT64 <= min(ints) and max(ints) < _INT64:
        col.pattern = "integer"
        col.min, col.max = int(min(ints)), int(max(ints))
    else:  # words, or integers too long for int64 (card numbers): new keys of the same shape
        col.pattern = shape_of(values.astype(str))


def _fill_constant(col: Column, values: pd.Series) -> None:
    first = values.iloc[0]
    value = first.item() if isinstance(first, np.generic) else first
    # the schema is JSON: a date (or any other object) is kept as its text, and decoding puts
    # it back into the column's dtype
    col.value = value if isinstance(value, (bool, int, float, str)) else str(value)


def validate(table: pd.DataFrame, schema: Schema) -> None:
    """Check that a table has the schema's columns (same names); raise SchemaError if not."""
    names = [str(c) for c in table.columns]
    if names != schema.names:
        missing = [n for n in schema.names if n not in names]
        extra = [n for n in names if n not in schema.names]
        raise SchemaError(
            f"table and schema disagree: missing {missing or 'none'}, extra {extra or 'none'}"
        )
