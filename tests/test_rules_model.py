"""The rule model (text, JSON, validation) and `broken`, kind by kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import SchemaError
from synthgen.rules import Rule, broken
from synthgen.rules.rows import validate
from synthgen.schema import detect

RULES = [
    Rule("identity", ("fare", "tip", "discount", "total"), signs=(1, 1, -1)),
    Rule("order", ("a", "b", "c")),
    Rule("dependency", ("education", "education_num")),
    Rule("dependency", ("state", "city", "zip")),
    Rule("combination", ("grade", "sub_grade")),
    Rule("monotone", ("logwage", "wage"), increasing=True),
    Rule("missing_together", ("a", "b", "c")),
    Rule("missing_when", ("application_type", "joint_income"), values=("individual",)),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.kind)
def test_a_rule_round_trips_through_json(rule):
    import json

    back = Rule.from_dict(json.loads(json.dumps(rule.to_dict())))
    assert back == rule
    assert back.text() == rule.text()


def test_texts_read_as_the_spec_writes_them():
    texts = [r.text() for r in RULES]
    assert texts == [
        "total = fare + tip - discount",
        "a + b <= c",
        "education determines education_num",
        "(state, city) determine zip",
        "(grade, sub_grade) take only their real combinations",
        "wage is an increasing function of logwage",
        "a, b and c are missing together",
        "joint_income is missing exactly when application_type is individual",
    ]


def test_derived_and_sources():
    identity, order, _, _, combination, monotone, together, when = RULES
    assert (identity.derived, identity.sources) == ("total", ("fare", "tip", "discount"))
    assert (order.derived, order.sources) == ("c", ("a", "b"))
    assert (monotone.derived, when.derived) == ("wage", "joint_income")
    assert combination.derived is None and combination.sources == ("grade", "sub_grade")
    assert together.derived is None


def test_a_declared_rule_needs_only_kind_and_columns():
    rule = Rule.from_dict({"kind": "identity", "columns": ["a", "b", "c"]})
    assert rule.signs == (1, 1) and rule.share == 1.0 and rule.exceptions == 0
    assert Rule.from_dict({"kind": "monotone", "columns": ["x", "y"]}).increasing is True


@pytest.mark.parametrize(
    "data, words",
    [
        ("a <= b", "JSON object"),
        ({"kind": "sum", "columns": ["a", "b"]}, "unknown kind"),
        ({"kind": "order", "columns": ["a"]}, "2 to 3 columns"),
        ({"kind": "order", "columns": ["a", "b", "c", "d"]}, "2 to 3 columns"),
        ({"kind": "order", "columns": "a"}, "2 to 3 columns"),
        ({"kind": "order", "columns": ["a", "a"]}, "named twice"),
        ({"kind": "order", "columns": ["a", "b"], "sign": [1]}, "unknown rule field"),
        ({"kind": "order", "columns": ["a", "b"], "signs": [1]}, "only a identity"),
        ({"kind": "identity", "columns": ["a", "b", "c"], "signs": [1, 2]}, "+1 or -1"),
        ({"kind": "identity", "columns": ["a", "b", "c"], "signs": [1]}, "+1 or -1"),
        ({"kind": "missing_when", "columns": ["a", "b"]}, "lists the source's 'values'"),
        ({"kind": "missing_when", "columns": ["a", "b"], "values": [[1]]}, "plain values"),
        ({"kind": "order", "columns": ["a", "b"], "share": 1.5}, "from 0 to 1"),
        ({"kind": "order", "columns": ["a", "b"], "exceptions": -1}, "whole number"),
    ],
)
def test_from_dict_refuses_a_bad_rule_in_one_line(data, words):
    with pytest.raises(SchemaError) as err:
        Rule.from_dict(data)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_validate_refuses_a_rule_over_the_wrong_kind_of_column():
    table = pd.DataFrame({"x": [1.5, 2.5, 3.5] * 10, "c": ["a", "b", "c"] * 10})
    schema = detect(table)
    with pytest.raises(SchemaError, match="'c' is categorical"):
        validate([Rule("order", ("x", "c"))], schema)
    with pytest.raises(SchemaError, match="which the table lacks"):
        validate([Rule("dependency", ("c", "y"))], schema)
    validate([Rule("dependency", ("c", "x"))], schema)


def test_identity_within_rounding_of_text_written_with_decimals():
    rows = pd.DataFrame(
        {
            "a": ["1.25", "2.50", "3.00", None],
            "b": ["0.1", "0.2", "0.3", "1"],
            "t": ["1.4", "2.6", "3.5", "5"],
        }
    )
    # 1.25 + 0.1 = 1.35 written as 1.4 (rounded): kept; 3.0 + 0.3 = 3.3 vs 3.5: broken
    assert broken(Rule("identity", ("a", "b", "t"), signs=(1, 1)), rows).tolist() == [
        False,
        False,
        True,
        False,
    ]


def test_order_of_dates_and_with_a_sum():
    rows = pd.DataFrame(
        {
            "pickup": ["2024-01-01 10:00", "2024-01-01 11:00"],
            "dropoff": ["2024-01-01 10:30", "2024-01-01 10:59"],
        }
    )
    assert broken(Rule("order", ("pickup", "dropoff")), rows).tolist() == [False, True]
    sums = pd.DataFrame({"a": [1, 2, 3], "b": [1, 1, 1], "c": [2, 2, 5]})
    assert broken(Rule("order", ("a", "b", "c")), sums).tolist() == [False, True, False]


def test_dependency_compares_with_the_real_groups_and_missing_is_a_value():
    real = pd.DataFrame({"edu": ["HS", "BA", "MA", None] * 5, "num": ["9", "13", "14", "0"] * 5})
    rows = pd.DataFrame(
        {"edu": ["HS", "BA", None, None, "PhD"], "num": ["9", "14", "0", "9", "16"]}
    )
    assert broken(Rule("dependency", ("edu", "num")), rows, real).tolist() == [
        False,
        True,
        False,
        True,
        False,  # an unseen source value is not judged
    ]


def test_dependency_matches_typed_rows_against_a_text_table():
    real = pd.DataFrame({"edu": ["HS", "BA"] * 10, "num": ["9", "13"] * 10})
    rows = pd.DataFrame({"edu": ["HS", "BA"], "num": pd.array([9, 9], dtype="Int64")})
    assert broken(Rule("dependency", ("edu", "num")), rows, real, detect(real)).tolist() == [
        False,
        True,
    ]


def test_combination_flags_a_combination_the_real_table_lacks():
    real = pd.DataFrame({"g": ["A", "A", "B", "B"] * 5, "s": ["A1", "A2", "B1", "B2"] * 5})
    rows = pd.DataFrame({"g": ["A", "B", "A"], "s": ["A2", "B1", "B1"]})
    assert broken(Rule("combination", ("g", "s")), rows, real).tolist() == [False, False, True]


def test_monotone_brackets_each_row_between_its_real_neighbours():
    logwage = np.linspace(3, 6, 40)
    real = pd.DataFrame({"logwage": logwage, "wage": np.exp(logwage)})
    rows = pd.DataFrame(
        {"logwage": [3.5, 4.0, 4.0, 7.0, 2.0], "wage": [np.exp(3.5), 56.0, 400.0, 2000.0, 1.0]}
    )
    assert broken(Rule("monotone", ("logwage", "wage")), rows, real).tolist() == [
        False,
        False,
        True,
        False,
        False,
    ]
    down = Rule("monotone", ("logwage", "wage"), increasing=False)
    assert broken(down, real, real).sum() > 30


def test_missing_together_and_missing_when():
    rows = pd.DataFrame({"a": [1, None, None, 4], "b": [1, None, 3, None]})
    assert broken(Rule("missing_together", ("a", "b")), rows).tolist() == [False, False, True, True]
    loans = pd.DataFrame(
        {
            "type": ["individual", "joint", "joint", "individual", None],
            "joint_income": [None, 50.0, None, 20.0, None],
        }
    )
    rule = Rule("missing_when", ("type", "joint_income"), values=("individual",))
    assert broken(rule, loans).tolist() == [False, False, True, True, True]
    with_missing = Rule("missing_when", ("type", "joint_income"), values=("individual", None))
    assert broken(with_missing, loans).tolist() == [False, False, True, True, False]


def test_missing_when_reads_a_boolean_source_as_its_schema_writes_it():
    table = pd.DataFrame({"joint": ["yes", "no"] * 10, "income": [None, "5"] * 10})
    rule = Rule("missing_when", ("joint", "income"), values=("yes",))
    assert not broken(rule, table).any()
    assert broken(Rule("missing_when", ("joint", "income"), values=(False,)), table).all()


def test_a_found_missing_together_rule_over_dates_and_numbers_reads_back(tmp_path):
    # a schema synthgen wrote must load: dates missing together with numbers are no comparison
    # of dates (it refused student placements' salary, start_date, end_date and duration)
    rng = np.random.default_rng(0)
    n = 120
    placed = rng.random(n) < 0.6
    start = pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"))
    table = pd.DataFrame(
        {
            "salary": np.where(placed, rng.integers(20, 40, n) * 1000.0, np.nan),
            "start_date": start.where(placed).dt.strftime("%Y-%m-%d"),
            "grade": rng.choice(["a", "b", "c"], n),
        }
    )
    schema = detect(table)
    together = [r for r in schema.rules if r.kind == "missing_together"]
    assert together and set(together[0].columns) == {"salary", "start_date"}
    path = tmp_path / "schema.json"
    path.write_text(schema.to_json())
    from synthgen.schema import Schema

    loaded = Schema.load(str(path))
    validate(loaded.rules, loaded)  # refused before
    with pytest.raises(SchemaError, match="dates are compared with dates only"):
        validate([Rule("order", ("salary", "start_date"))], loaded)


def test_discover_imports_from_the_package_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = "from synthgen.rules import discover, table_rules; print(callable(table_rules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]  # it recursed without end before
    assert out.stdout.strip() == "True"
