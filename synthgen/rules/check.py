"""Which rows break a rule: `broken` reads the tables through the schema (detected when not
given) and asks `synthgen.rules.rows`, where each kind's check lives.

Example:
    >>> import pandas as pd
    >>> from synthgen.rules.model import Rule
    >>> rows = pd.DataFrame({"fare": [5.0, 7.5], "tip": [1.0, 0.5], "total": [6.0, 9.0]})
    >>> broken(Rule("identity", ("fare", "tip", "total"), signs=(1, 1)), rows).tolist()
    [False, True]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from synthgen.rules.model import Rule
from synthgen.rules.rows import Typed, broken_in, half_units, joint_codes, validate

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.schema import Schema

__all__ = ["Typed", "broken", "broken_in", "broken_shares", "half_units", "joint_codes", "validate"]


def broken(
    rule: Rule,
    rows: pd.DataFrame,
    real: pd.DataFrame | None = None,
    schema: Schema | None = None,
) -> np.ndarray:
    """Per row of `rows`, whether it breaks `rule`. The kinds that compare with the real table
    (dependency, combination, monotone) take `real`, the table the rule was found on (without
    it, `rows` is its own reference). `schema` defaults to the one detected on `real` (else
    `rows`).

    Example:
        >>> import pandas as pd
        >>> rows = pd.DataFrame({"a": [1, 2, 3], "b": [2, 2, 1]})
        >>> broken(Rule("order", ("a", "b")), rows).tolist()
        [False, False, True]
    """
    if schema is None:
        from synthgen.schema import Schema, detect

        # the columns only: the rule is given, nothing to discover
        schema = detect((real if real is not None else rows)[list(rule.columns)], Schema([]))
    typed = Typed(rows, schema)
    return broken_in(rule, typed, Typed(real, schema) if real is not None else typed)


def broken_shares(
    rules: Sequence[Rule], rows: pd.DataFrame, real: pd.DataFrame, schema: Schema
) -> list[float]:
    """The share of `rows` that break each rule (NaN when `rows` is empty).

    Example:
        >>> import pandas as pd
        >>> from synthgen.schema import detect
        >>> t = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 5, 1]})
        >>> broken_shares([Rule("order", ("a", "b"))], t, t, detect(t))
        [0.25]
    """
    typed_rows, typed_real = Typed(rows, schema), Typed(real, schema)
    return [
        float(broken_in(rule, typed_rows, typed_real).mean()) if len(rows) else float("nan")
        for rule in rules
    ]
