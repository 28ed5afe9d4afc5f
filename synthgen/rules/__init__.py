"""Rules: facts every real row of a table keeps (an identity, an order between columns, a
category that determines another, columns missing together...), found by `discover`, listed in
the schema's "rules", checked by `broken` and kept by the models.

This room sits beside `synthgen.columns`: columns/ holds column-level facts and transforms,
rules/ table-level ones. Only the model loads with the package (the schema reads rules from
JSON); the rest loads when first used.

Example:
    >>> import pandas as pd
    >>> from synthgen.rules import Rule, broken
    >>> rows = pd.DataFrame({"pickup": [1, 5], "dropoff": [2, 4]})
    >>> broken(Rule("order", ("pickup", "dropoff")), rows).tolist()
    [False, True]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthgen.rules.model import KINDS, Rule

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.rules.check import broken
    from synthgen.rules.discover import discover
    from synthgen.schema import Schema

_LAZY = {"broken": "synthgen.rules.check", "discover": "synthgen.rules.discover"}


def __getattr__(name: str) -> Any:
    # check and discover read columns through synthgen.columns, which reads the schema: loaded
    # on first use, so that the schema can read rules
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'synthgen.rules' has no attribute {name!r}")


def table_rules(table: pd.DataFrame, schema: Schema, given: Schema | None = None) -> list[Rule]:
    """The rules of `table`: those of a `given` schema exactly as they are (checked against the
    columns), else the ones `discover` finds.

    Example:
        >>> import pandas as pd
        >>> from synthgen.schema import detect
        >>> t = pd.DataFrame({"a": [1, 2, 3] * 10, "b": [2, 3, 5] * 10})
        >>> [r.text() for r in table_rules(t, detect(t))]
        ['a <= b']
    """
    if given is not None:
        from synthgen.rules.check import validate

        validate(given.rules, schema)
        return list(given.rules)
    from synthgen.rules.discover import discover

    return discover(table, schema)


__all__ = ["KINDS", "Rule", "broken", "discover", "table_rules"]
