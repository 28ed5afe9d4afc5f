"""Rules: facts every real row of a table keeps (an identity, an order between columns, a
category that determines another, columns missing together...), found by `discover`, listed in
the schema's "rules", checked by `broken` and kept by the models.

This room sits beside `synthgen.columns`: columns/ holds column-level facts and transforms,
rules/ table-level ones. `model` (the `Rule`) loads with the package; the rest when first used,
so that the schema, which reads rules, loads before the columns they are checked through.

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
    from synthgen.rules.check import broken
    from synthgen.rules.discover import discover, table_rules


def __getattr__(name: str) -> Any:
    if name == "broken":
        from synthgen.rules.check import broken

        return broken
    if name in ("discover", "table_rules"):
        import importlib  # (`from synthgen.rules import discover` would ask this again)

        return getattr(importlib.import_module("synthgen.rules.discover"), name)
    raise AttributeError(f"module 'synthgen.rules' has no attribute {name!r}")


__all__ = ["KINDS", "Rule", "broken", "discover", "table_rules"]
