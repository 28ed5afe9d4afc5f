"""Rules in the schema file and in the report: `synthgen schema` lists them, a given schema's
rules are exactly the ones used, real holdout rows pass, and a table where 5% of the rows break a
rule fails, naming it (`--fail-on rules` exits 1)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.report import build
from synthgen.report.rules import assess
from synthgen.schema import Schema, detect
from tests.conftest import SAMPLE_DATA
from tests.test_cli import run_cli

TOTAL = "total = fare + tip + tolls"


def split(table: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(table))
    cut = int(0.8 * len(table))
    return table.iloc[order[:cut]], table.iloc[order[cut:]]


@pytest.fixture(scope="module")
def taxis(tmp_path_factory) -> tuple[str, pd.DataFrame]:
    """A CSV of trips whose total is the sum of three parts, and how synthgen reads it."""
    rng = np.random.default_rng(0)
    n = 2000
    fare = rng.uniform(3, 60, n).round(2)
    tip = rng.uniform(0, 15, n).round(2)
    tolls = np.where(rng.uniform(size=n) < 0.2, 6.55, 0.0)
    frame = pd.DataFrame(
        {
            "fare": fare,
            "tip": tip,
            "tolls": tolls,
            "total": (fare + tip + tolls).round(2),
            "payment": rng.choice(["cash", "card"], n),
        }
    )
    path = tmp_path_factory.mktemp("rules") / "taxis.csv"
    frame.to_csv(path, index=False)
    return str(path), synthgen.read_table(str(path))


def edited(table: pd.DataFrame, share: float = 0.05, seed: int = 1) -> tuple[pd.DataFrame, int]:
    """The table with `share` of its rows' totals raised by a dollar (breaking the identity)."""
    out = table.copy()
    rows = np.random.default_rng(seed).choice(len(out), int(share * len(out)), replace=False)
    out.loc[out.index[rows], "total"] = [f"{float(v) + 1:.2f}" for v in out["total"].iloc[rows]]
    return out, len(rows)


@pytest.mark.parametrize("name", ["penguins", "penguins_raw"])
def test_real_holdout_rows_pass(name, request):
    table = request.getfixturevalue(name)
    for seed in range(3):
        train, holdout = split(table, seed)
        schema = detect(train)
        assert schema.rules  # there is something to check
        section = assess(train, holdout, None, schema)
        assert section["verdict"] == "pass", section["reasons"]


def test_a_table_with_five_percent_of_rows_edited_fails_naming_the_rule(taxis):
    _, real = taxis
    train, holdout = split(real)
    bad, rows = edited(holdout)
    report = build(train, bad, holdout=holdout)
    section = report.to_dict()["rules"]
    assert section["verdict"] == "fail"
    [entry] = [c for c in section["checked"] if c["rule"] == TOTAL]
    assert entry["synthetic_broken_rows"] == rows
    assert entry["synthetic_broken_share"] == pytest.approx(0.05, abs=0.005)
    assert entry["holdout_broken_share"] == 0.0
    assert section["reasons"][0].startswith(TOTAL + ": broken in 5.0% of synthetic rows")
    assert report.exit_code(fail_on=["rules"]) == 1 and report.exit_code() == 0
    clean = build(train, holdout, holdout=holdout)
    assert clean.rules["verdict"] == "pass" and clean.exit_code(fail_on=["rules"]) == 0


def test_a_few_broken_rows_warn_and_none_pass(taxis):
    _, real = taxis
    schema = detect(real)
    few, _ = edited(real, share=0.01)
    assert assess(real, few, None, schema)["verdict"] == "warn"
    assert assess(real, real, None, schema)["verdict"] == "pass"


def test_no_rules_found_passes_and_says_so():
    table = pd.DataFrame({"x": np.random.default_rng(0).normal(size=100)})
    section = assess(table, table, None, detect(table))
    assert section == {"verdict": "pass", "reasons": ["no rules found"], "checked": []}


def test_report_checks_typed_samples_of_a_model(penguins):
    model = synthgen.fit(penguins, seed=0)
    section = build(penguins, model.sample(300, seed=1)).rules
    assert [c["rule"] for c in section["checked"]] == [r.text() for r in model.schema_.rules]
    assert all(0 <= c["synthetic_broken_share"] <= 1 for c in section["checked"])


def test_cli_schema_lists_rules_and_report_fails_on_them(taxis, tmp_path, capsys):
    path, real = taxis
    code, text, _ = run_cli(["schema", path], capsys)
    assert code == 0
    rules = json.loads(text)["rules"]
    assert rules[0] == {
        "rule": TOTAL,
        "kind": "identity",
        "columns": ["fare", "tip", "tolls", "total"],
        "signs": [1, 1, 1],
        "share": 1.0,
        "exceptions": 0,
    }
    bad, _ = edited(real)
    bad_path = tmp_path / "bad.csv"
    bad.to_csv(bad_path, index=False)
    code, out, err = run_cli(["report", path, str(bad_path), "--fail-on", "rules"], capsys)
    assert code == 1
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert "rules: " + TOTAL in error
    assert "Rules" in out and TOTAL in out
    code, _, err = run_cli(["report", path, path, "--fail-on", "rules", "-q"], capsys)
    assert code == 0, err


def test_a_given_schema_has_exactly_its_rules(taxis, tmp_path, capsys):
    path, real = taxis
    data = json.loads(detect(real).to_json())
    data["rules"] = [{"kind": "order", "columns": ["tip", "fare"]}]  # removed one, declared one
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(json.dumps(data))
    given = Schema.load(schema_path)
    assert [r.text() for r in detect(real, given).rules] == ["tip <= fare"]
    model = str(tmp_path / "m.synthgen")
    code, _, err = run_cli(["fit", path, "--schema", str(schema_path), "-o", model], capsys)
    assert code == 0, err
    assert [r.text() for r in synthgen.load(model).schema_.rules] == ["tip <= fare"]
    code, text, _ = run_cli(
        ["report", path, path, "--schema", str(schema_path), "--json", "-", "-q"], capsys
    )
    checked = json.loads(text)["rules"]["checked"]
    assert [c["rule"] for c in checked] == ["tip <= fare"]
    assert checked[0]["synthetic_broken_share"] > 0  # a declared rule the table does not keep


@pytest.mark.parametrize(
    "rule, words",
    [
        ({"kind": "order", "columns": ["tip", "nope"]}, "names column 'nope'"),
        ({"kind": "order", "columns": ["tip", "payment"]}, "'payment' is categorical"),
        ({"kind": "nonsense", "columns": ["tip", "fare"]}, "unknown kind 'nonsense'"),
    ],
)
def test_a_bad_rule_in_a_schema_file_is_one_line_and_exit_3(taxis, tmp_path, capsys, rule, words):
    path, real = taxis
    data = json.loads(detect(real).to_json())
    data["rules"] = [rule]
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(json.dumps(data))
    code, _, err = run_cli(
        ["fit", path, "--schema", str(schema_path), "-o", str(tmp_path / "m")], capsys
    )
    assert code == 3 and words in err and err.count("\n") == 1


def test_html_shows_the_rules(taxis):
    _, real = taxis
    bad, _ = edited(real)
    page = build(real, bad).to_html()
    assert "Rules of the real table" in page and TOTAL in page


def test_rules_read_from_penguins_as_shipped():
    penguins = synthgen.read_table(str(SAMPLE_DATA / "penguins.csv"))
    again = Schema.from_dict(json.loads(detect(penguins).to_json()))
    assert again.rules == detect(penguins).rules
