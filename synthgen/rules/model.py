"""A rule: a fact every real row keeps (an identity, an order, a dependency...), as found by
`synthgen.rules.discover` or declared by a user in a schema file's "rules" list.

Example:
    >>> rule = Rule("identity", ("fare", "tip", "total"), signs=(1, 1))
    >>> rule.text(), rule.derived, rule.sources
    ('total = fare + tip', 'total', ('fare', 'tip'))
    >>> Rule.from_dict(rule.to_dict()) == rule
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from synthgen.errors import SchemaError

#: The kinds of rule, each with the least and most columns it names (None: no most).
KINDS: dict[str, tuple[int, int | None]] = {
    "identity": (2, None),
    "product": (3, 3),
    "order": (2, 3),
    "dependency": (2, 3),
    "combination": (2, None),
    "monotone": (2, 2),
    "missing_together": (2, None),
    "missing_when": (2, 2),
}
# Kinds whose last column is computed from the others (an order's right side counts).
_DERIVED = {"identity", "product", "order", "dependency", "monotone", "missing_when"}
# Fields a rule's JSON may hold; "rule" is its text, written for reading and ignored on load.
# Kinds that list values of their source.
_LISTS_VALUES = {"missing_when"}
# Kinds with signs: an identity's (+ or -), a product's (multiply or divide).
_SIGNED = {"identity", "product"}
# Kinds with a constant factor.
_FACTORED = {"product"}
_FIELDS = {
    "kind",
    "columns",
    "signs",
    "factor",
    "increasing",
    "values",
    "share",
    "exceptions",
    "rule",
}


@dataclass(frozen=True)
class Rule:
    """One rule over named columns; the derived column (if the kind has one) is last.

    `signs` (identity and product): an identity's target = sum(signs[i] * columns[i]) over the
    sources, each +1/-1; a product's target = factor * prod(columns[i] ** signs[i]) (a source
    multiplies or divides). `factor` (product only): its constant, 1 when not given.
    `increasing` (monotone only). `values` (missing_when only): the source's values for which
    the target is missing (None in it: a missing source). `share`: the share of real rows
    (where the rule is defined) that keep it; `exceptions`: real rows that break it.

    Example:
        >>> Rule("order", ("pickup", "dropoff")).text()
        'pickup <= dropoff'
    """

    kind: str
    columns: tuple[str, ...]
    signs: tuple[int, ...] | None = None
    factor: float | None = None
    increasing: bool | None = None
    values: tuple[Any, ...] | None = None
    share: float = 1.0
    exceptions: int = 0

    @property
    def derived(self) -> str | None:
        """The column a transform computes from the others; None for combination and
        missing_together, whose columns are peers."""
        return self.columns[-1] if self.kind in _DERIVED else None

    @property
    def sources(self) -> tuple[str, ...]:
        """The columns the derived one is computed from (all columns when none is derived)."""
        return self.columns[:-1] if self.derived is not None else self.columns

    def text(self) -> str:
        """The rule in words, e.g. "1stFlr + 2ndFlr <= GrLivArea" or "a and b are missing
        together"."""
        return _TEXT[self.kind](self)

    def to_dict(self) -> dict[str, Any]:
        """JSON values: its text under "rule" (for reading), then the fields that are set."""
        out: dict[str, Any] = {
            "rule": self.text(),
            "kind": self.kind,
            "columns": list(self.columns),
        }
        if self.signs is not None:
            out["signs"] = list(self.signs)
        if self.factor is not None:
            out["factor"] = self.factor
        if self.increasing is not None:
            out["increasing"] = self.increasing
        if self.values is not None:
            out["values"] = list(self.values)
        out["share"] = self.share
        out["exceptions"] = self.exceptions
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Rule:
        """The rule a schema file's entry describes; `SchemaError` (one line) when it is not
        one. Only "kind" and "columns" are needed: a declared rule keeps every real row."""
        if not isinstance(data, dict):
            raise SchemaError(f"a schema rule is a JSON object with 'kind' and 'columns': {data!r}")
        unknown = set(data) - _FIELDS
        if unknown:
            raise SchemaError(f"unknown rule field(s) {sorted(unknown)} in {_shown(data)}")
        kind = data.get("kind")
        if kind not in KINDS:
            raise SchemaError(
                f"rule {_shown(data)}: unknown kind {kind!r}; use one of {', '.join(KINDS)}"
            )
        columns = data.get("columns")
        least, most = KINDS[kind]
        if (
            not isinstance(columns, list)
            or not all(isinstance(c, str) for c in columns)
            or len(columns) < least
            or (most is not None and len(columns) > most)
        ):
            count = f"{least} to {most}" if most else f"{least} or more"
            raise SchemaError(f"rule {_shown(data)}: a {kind} rule names {count} columns")
        if len(set(columns)) < len(columns):
            raise SchemaError(f"rule {_shown(data)}: a column is named twice")
        rule = cls(
            kind,
            tuple(columns),
            signs=_signs(data, kind, len(columns)),
            factor=_factor(data, kind),
            increasing=_option(data, "increasing", kind, "monotone", bool, True),
            values=_values(data, kind),
            share=_share(data),
            exceptions=_exceptions(data),
        )
        return rule


def _shown(data: dict[str, Any]) -> str:
    return f"{data.get('kind', '?')} {data.get('columns', [])}"


def _signs(data: dict[str, Any], kind: str, n: int) -> tuple[int, ...] | None:
    owner = kind if kind in _SIGNED else "identity"
    signs = _option(data, "signs", kind, owner, list, [1] * (n - 1))
    if signs is None:
        return None
    if len(signs) != n - 1 or any(s not in (1, -1) or isinstance(s, bool) for s in signs):
        raise SchemaError(
            f"rule {_shown(data)}: 'signs' gives +1 or -1 for each column but the last "
            f"({n - 1} of them)"
        )
    return tuple(int(s) for s in signs)


def _factor(data: dict[str, Any], kind: str) -> float | None:
    factored = kind in _FACTORED
    factor = data.get("factor", 1.0) if factored else data.get("factor")
    if not factored:
        if factor is not None:
            raise SchemaError(f"rule {_shown(data)}: only a product rule has 'factor'")
        return None
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        raise SchemaError(f"rule {_shown(data)}: 'factor' is a number")
    if not math.isfinite(factor) or factor == 0:
        raise SchemaError(f"rule {_shown(data)}: 'factor' is a finite number other than 0")
    return float(factor)


def _option(data: dict[str, Any], key: str, kind: str, owner: str, typ: type, default: Any) -> Any:
    """A field only one kind has: its value (or default) for that kind, an error for others."""
    if kind != owner:
        if data.get(key) is not None:
            raise SchemaError(f"rule {_shown(data)}: only a {owner} rule has '{key}'")
        return None
    value = data.get(key, default)
    if value is not None and not isinstance(value, typ):
        raise SchemaError(f"rule {_shown(data)}: '{key}' must be a {typ.__name__}")
    return value


def _values(data: dict[str, Any], kind: str) -> tuple[Any, ...] | None:
    values = _option(data, "values", kind, "missing_when", list, None)
    if values is None and kind in _LISTS_VALUES:
        raise SchemaError(
            f"rule {_shown(data)}: a missing_when rule lists the source's 'values' for which "
            "the target is missing"
        )
    if values is not None and not all(
        v is None or isinstance(v, (str, int, float, bool)) for v in values
    ):
        raise SchemaError(f"rule {_shown(data)}: 'values' holds plain values only")
    return None if values is None else tuple(values)


def _share(data: dict[str, Any]) -> float:
    share = data.get("share", 1.0)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise SchemaError(f"rule {_shown(data)}: 'share' is a number from 0 to 1")
    return float(share)


def _exceptions(data: dict[str, Any]) -> int:
    exceptions = data.get("exceptions", 0)
    if isinstance(exceptions, bool) or not isinstance(exceptions, int) or exceptions < 0:
        raise SchemaError(f"rule {_shown(data)}: 'exceptions' is a whole number of rows")
    return exceptions


def _listed(names: tuple[str, ...]) -> str:
    """ "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _sum(names: tuple[str, ...], signs: tuple[int, ...]) -> str:
    out = ("-" if signs[0] < 0 else "") + names[0]
    for name, sign in zip(names[1:], signs[1:]):
        out += (" - " if sign < 0 else " + ") + name
    return out


def _product(rule: Rule) -> str:
    """ "percwhite = 100 * popwhite / poptotal"."""
    signs = rule.signs or (1,) * len(rule.sources)
    factor = 1.0 if rule.factor is None else rule.factor
    top = [n for n, s in zip(rule.sources, signs) if s > 0]
    if factor != 1 or not top:
        top.insert(0, f"{factor:g}")
    return (
        f"{rule.derived} = "
        + " * ".join(top)
        + "".join(f" / {n}" for n, s in zip(rule.sources, signs) if s < 0)
    )


def _value_text(value: Any) -> str:
    return "missing" if value is None else str(value)


def _missing_when(rule: Rule) -> str:
    values = rule.values or ()
    shown = (
        _value_text(values[0])
        if len(values) == 1
        else "one of " + ", ".join(map(_value_text, values))
    )
    return f"{rule.columns[1]} is missing exactly when {rule.columns[0]} is {shown}"


def _dependency(rule: Rule) -> str:
    if len(rule.sources) == 1:
        return f"{rule.sources[0]} determines {rule.derived}"
    return f"({', '.join(rule.sources)}) determine {rule.derived}"


_TEXT = {
    "identity": lambda r: f"{r.derived} = {_sum(r.sources, r.signs or (1,) * len(r.sources))}",
    "product": _product,
    "order": lambda r: f"{_sum(r.sources, (1,) * len(r.sources))} <= {r.derived}",
    "dependency": _dependency,
    "combination": lambda r: f"({', '.join(r.columns)}) take only their real combinations",
    "monotone": lambda r: (
        f"{r.derived} is {'an increasing' if r.increasing is not False else 'a decreasing'} "
        f"function of {r.sources[0]}"
    ),
    "missing_together": lambda r: f"{_listed(r.columns)} are missing together",
    "missing_when": _missing_when,
}
