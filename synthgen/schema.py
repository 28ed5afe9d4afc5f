"""Column kinds, their detection, and the JSON schema a user can edit and pass back.

A schema says, per column, what kind of values it holds and how they are written, so that synthetic
rows come back in the same shape: ints as ints, decimals kept, dates in the format they were written in.
The kinds are `synthgen.columns.KINDS`: detection asks each in the registry's order whether a
column is its own (`Kind.claims`), and the first that claims it fills in its facts (`Kind.fill`).
`Column` lives with the kinds (`synthgen.columns.base`), below this module; it is importable here.

Example:
    >>> import pandas as pd
    >>> from synthgen.schema import detect
    >>> schema = detect(pd.DataFrame({"age": ["39", "50", None], "sex": ["F", "M", "F"]}))
    >>> [(c.name, c.kind) for c in schema.columns]
    [('age', 'numeric'), ('sex', 'categorical')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthgen.columns import KINDS
from synthgen.columns.base import Column, Evidence, is_text
from synthgen.errors import SchemaError, SynthgenWarning, UsageError, option

if TYPE_CHECKING:
    from synthgen.rules.model import Rule

__all__ = ["Column", "Schema", "check_names", "detect", "detect_column", "validate"]


@dataclass
class Schema:
    """The columns of a table, in order."""

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
    read: dict[str, np.ndarray] = {}  # columns detection read as the rules do: not read again
    for name in table.columns:
        series = table[name]
        override = given.get(str(name))
        col, values = _detect_column(
            series,
            kind=override.kind if override else None,
            decimal=override.decimal if override and override.decimal else decimal,
        )
        if override is not None:
            col.take(override)  # (its format or decimal mark may read the values otherwise)
        elif values is not None:
            read[col.name] = values
        if override is None:  # (a column of numbers has no word: nothing to say)
            _warn_words_among_numbers(series, col)
        columns.append(col)
    schema = Schema(columns)
    from synthgen.rules.discover import table_rules

    schema.rules = table_rules(table, schema, overrides, read)
    if overrides is None:  # (a schema given is the user's choice of kinds and rules)
        from synthgen.rules.entities import warn_repeated_ids

        warn_repeated_ids(table, schema)
    return schema


def _warn_words_among_numbers(series: pd.Series, col: Column) -> None:
    """A warning for a column of numbers but for a word or two (`unknown`): read as they are,
    its numbers are keys or categories; missing values under another name read as numbers."""
    import warnings

    from synthgen.columns.numeric import numbers_but_words

    words = numbers_but_words(series)
    if not words:
        return
    said = " and ".join(map(repr, words))
    given = option(f"--na-values {','.join(words)}", f"na_values={words!r}")
    warnings.warn(
        f"column {col.name!r} holds numbers but for {said}, so it is read as {col.kind}; if "
        f"{'they mean' if len(words) > 1 else 'it means'} missing, pass {given} to read it as numbers",
        SynthgenWarning,
        stacklevel=3,
    )


def check_names(table: pd.DataFrame) -> None:
    """Refuse a table whose column names repeat (a column must be found by its name)."""
    names = pd.Index([str(c) for c in table.columns])
    if names.has_duplicates:
        dupes = sorted(set(names[names.duplicated()]))
        raise SchemaError(
            f"duplicate column name(s) {', '.join(map(repr, dupes))}; give each column its own name"
        )


def detect_column(series: pd.Series, kind: str | None = None, decimal: str | None = None) -> Column:
    """Detect one column: the first kind (in `KINDS` order) that claims its non-null values,
    which then fills in its facts; with `kind`, only that kind's facts. `decimal` as in `detect`.

    Example:
        >>> detect_column(pd.Series(["yes", "no", None], name="smoker")).to_dict()
        {'name': 'smoker', 'kind': 'boolean', 'null_rate': 0.333333, 'true_value': 'yes', 'false_value': 'no', 'source_dtype': 'text'}
    """
    return _detect_column(series, kind, decimal)[0]


def _detect_column(
    series: pd.Series, kind: str | None = None, decimal: str | None = None
) -> tuple[Column, np.ndarray | None]:
    """`detect_column`, and the column's values as the rules read them (`InRules.values`, NaN
    where null) when its kind's `fill` read them so on its way (else None)."""
    name = str(series.name)
    n = len(series)
    present = series.notna().to_numpy(dtype=bool)
    notnull = series[present]
    null_rate = float(1 - len(notnull) / n) if n else 0.0
    source = "text" if is_text(series) else str(series.dtype)
    col = Column(name=name, kind="constant", null_rate=round(null_rate, 6), source_dtype=source)

    if len(notnull) == 0:
        col.kind = kind or "constant"  # no value to tell: one value, null
        return col, None

    evidence = Evidence(notnull, decimal)
    if kind is None:
        kind = next(k.name for k in KINDS.values() if k.claims(evidence))
    col.kind = kind
    KINDS[kind].fill(col, notnull, evidence)
    if evidence.read is None:
        return col, None
    values = np.full(n, np.nan)
    values[present] = evidence.read
    return col, values


def validate(table: pd.DataFrame, schema: Schema) -> None:
    """Check that a table has the schema's columns (same names); raise SchemaError if not."""
    names = [str(c) for c in table.columns]
    if names != schema.names:
        missing = [n for n in schema.names if n not in names]
        extra = [n for n in names if n not in schema.names]
        raise SchemaError(
            f"table and schema disagree: missing {missing or 'none'}, extra {extra or 'none'}"
        )
