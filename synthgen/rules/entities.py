"""Ids that repeat across rows: a patient's id over visits, a respondent's over waves.

synthgen has no model of entities yet (rows per subject, a subject's fixed facts drawn once). It
reads such a column as a category, and discovery finds that it determines the subject's fixed
columns (sex, birth year): a dependency rule, which the models keep with the real map. So each
synthetic row of a real id is written with that id's real sex and birth year: the real
subject's record under its real pseudonym, whatever the other columns say. The categories'
rare threshold counts rows, not subjects, and does not stop it: a subject of 5 visits has 5.
(An id that most rows hold in fewer than 5 rows is read as a key already: new keys, one per row.)

Until there is a model of entities, `detect` warns about such a column, naming the remedy:
kind "id" in the schema, which writes new keys (one per row) and keeps no rule over it.

A column is warned about when it determines another column, has at least `MIN_IDS` values that
mostly repeat (at least 2 rows each on the median), and looks like an id: named like one
(`patient`, `subject_id`, `pid`, ...) or, a category, a running code (at least 50 values, nearly
all with 3 digits and no spaces: `P0012`, `S-107`). Country or product names that determine a
region or a brand, grades (`B3` determines `B`) and numbers not named like ids (hours worked
deciding "in the labour force") are not warned about; a column of 5-digit zip codes is (the
warning says "if it names people").

Example:
    >>> import pandas as pd
    >>> from synthgen.schema import detect
    >>> ids = [f"P{i:03d}" for i in range(60) for _ in range(5)]
    >>> table = pd.DataFrame({"pid": ids, "sex": [("F", "M")[int(i[1:]) % 2] for i in ids],
    ...                       "visit": [1, 2, 3, 4, 5] * 60})
    >>> [(name, targets) for name, targets, _ in repeated_ids(table, detect(table))]
    [('pid', ['sex'])]
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from synthgen.rules.rows import role

if TYPE_CHECKING:
    from synthgen.schema import Schema

#: Fewer distinct values than this read as groups, not subjects.
MIN_IDS = 20
#: An id not named like one must look like a running code: at least `CODED_IDS` values, and
#: `DIGIT_SHARE` of them with `CODE_DIGITS` digits and no space (a sub-grade `B3` or a diagnosis
#: `I10` is a category that determines others, not a subject).
CODED_IDS = 50
CODE_DIGITS = 3
DIGIT_SHARE = 0.9
_DETERMINES = ("dependency",)
_NAMES = re.compile(
    r"(^|[_\s.-])(id|pid|uid|subj|subject|patient|person|participant|respondent|individual"
    r"|member|customer|client|user|student|employee|household|account)s?([_\s.-]?(id|no|nr"
    r"|num|number|code))?$",
    re.I,
)


def repeated_ids(table: pd.DataFrame, schema: Schema) -> list[tuple[str, list[str], str]]:
    """(column, the columns it determines, a few words on its rows) for each column of `schema`
    that looks like a repeated id (see the module)."""
    targets: dict[str, list[str]] = {}
    for rule in schema.rules:  # (a label, or a number looked up by value)
        if rule.kind in _DETERMINES and len(rule.sources) == 1:
            targets.setdefault(rule.sources[0], []).append(rule.columns[-1])
    out = []
    for name, determined in targets.items():
        counts = table[name].dropna().astype(str).value_counts()
        if len(counts) < MIN_IDS or counts.median() < 2:
            continue
        # numbers (hours, prices) are held to the name: their digits say nothing of a code
        coded = role(schema[name]) == "label" and _coded(counts.index)
        if not (_NAMES.search(name) or coded):
            continue
        rows = f"{len(counts):,} values, {int(counts.median())} rows each on the median"
        out.append((name, determined, rows))
    return out


def _coded(values: pd.Index) -> bool:
    """At least `CODED_IDS` values, nearly every one with `CODE_DIGITS` digits and no spaces:
    running codes (`P0012`, `10234`), not names or grades (`A1` .. `G5`, `I10`)."""
    if len(values) < CODED_IDS:
        return False
    text = pd.Series(values, dtype=object).astype(str)
    coded = (text.str.count(r"\d") >= CODE_DIGITS) & ~text.str.contains(r"\s")
    return bool(coded.mean() >= DIGIT_SHARE)


def warn_repeated_ids(table: pd.DataFrame, schema: Schema) -> None:
    """A warning for each repeated id (`repeated_ids`)."""
    import warnings

    from synthgen.errors import SynthgenWarning

    for name, determined, rows in repeated_ids(table, schema):
        which = ", ".join(determined[:3]) + (" ..." if len(determined) > 3 else "")
        warnings.warn(
            f"column {name!r} looks like an id that repeats across rows ({rows}) and determines "
            f"{which}: its real values are written, each with its real {which}; if it names "
            'people, give it kind "id" in --schema (new keys, one per row)',
            SynthgenWarning,
            stacklevel=3,
        )
