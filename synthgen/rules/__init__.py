"""Rules: facts every real row of a table keeps (an identity, an order between columns, a
category that determines another, columns missing together...), found by `discover`, listed in
the schema's "rules", checked by `broken` and kept by the models.

This room sits beside `synthgen.columns`: columns/ holds column-level facts and transforms,
rules/ table-level ones.

Example:
    >>> import pandas as pd
    >>> from synthgen.rules import Rule, broken
    >>> rows = pd.DataFrame({"pickup": [1, 5], "dropoff": [2, 4]})
    >>> broken(Rule("order", ("pickup", "dropoff")), rows).tolist()
    [False, True]
"""

from __future__ import annotations

from synthgen.rules.check import broken
from synthgen.rules.model import KINDS, Rule

__all__ = ["KINDS", "Rule", "broken"]
