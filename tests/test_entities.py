"""Ids that repeat across rows (synthgen.rules.entities): a patient's id over five visits is read
as a category that determines the patient's sex and birth year, so each synthetic row of a real
id carries that patient's real facts. Detection warns, once, naming the remedy; the remedy
(kind "id" in the schema) writes no real id; names and few-valued groups are not warned about."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.cli import main
from synthgen.errors import SynthgenWarning
from synthgen.schema import Schema, detect

VISITS = 5  # at the default rare threshold: fewer rows per id read as keys already
quiet = pytest.mark.filterwarnings("ignore::synthgen.errors.SynthgenWarning")


def visits(subjects: int = 120, seed: int = 0, name: str = "patient") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.repeat([f"P{i:04d}" for i in range(subjects)], VISITS)
    return pd.DataFrame(
        {
            name: ids,
            "visit": np.tile(np.arange(1, VISITS + 1), subjects),
            "sex": np.repeat(rng.choice(["F", "M"], subjects), VISITS),
            "born": np.repeat(rng.integers(1940, 2000, subjects), VISITS),
            "bp": rng.normal(120, 10, subjects * VISITS).round(1),
        }
    )


def warned(table: pd.DataFrame, overrides: Schema | None = None) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detect(table, overrides)
    return [str(w.message) for w in caught if issubclass(w.category, SynthgenWarning)]


@quiet
def test_a_repeated_id_that_determines_columns_is_warned_about():
    table = visits()
    schema = detect(table)
    assert schema["patient"].kind == "categorical"
    sources = {r.columns for r in schema.rules if r.kind == "dependency"}
    assert {("patient", "sex"), ("patient", "born")} <= sources
    (message,) = warned(table)
    assert "'patient'" in message and "sex, born" in message and "120 values" in message
    assert 'kind "id"' in message
    # what the warning says: a real id is written with that id's real facts
    rows = synthgen.fit(table, model="cart", seed=0).sample(300, seed=1)
    real = table.drop_duplicates("patient").set_index("patient")
    assert rows["patient"].isin(real.index).all()
    assert (rows["sex"].to_numpy() == real.loc[rows["patient"], "sex"].to_numpy()).all()


@pytest.mark.parametrize("name", ["subject_id", "PatientID", "pid", "respondent"])
def test_an_id_named_so_is_warned_about_whatever_its_values(name):
    table = visits(name=name)
    table[name] = table[name].str.replace("P", "subject ", regex=False)  # no longer codes
    assert len(warned(table)) == 1


def test_a_running_code_is_warned_about_whatever_its_name():
    table = visits(name="record")  # P0000 .. P0119: 120 codes of 4 digits
    assert len(warned(table)) == 1


def test_grades_are_not_warned_about():
    """35 sub-grades (A1 .. G5), each 40 rows, that determine their grade: codes of one digit."""
    rng = np.random.default_rng(0)
    subs = np.repeat([f"{g}{k}" for g in "ABCDEFG" for k in range(1, 6)], 40)
    table = pd.DataFrame({"sub_grade": subs, "rate": rng.normal(10, 2, len(subs))})
    table["grade"] = table["sub_grade"].str[0]
    assert any(r.columns == ("sub_grade", "grade") for r in detect(table).rules)
    assert warned(table) == []


def test_names_and_groups_are_not_warned_about():
    table = visits(name="town")
    table["town"] = (
        table["town"]
        .str.replace("P", "Town of ", regex=False)
        .str.replace(r"\d", lambda m: "abcdefghij"[int(m.group())], regex=True)
    )
    assert warned(table) == []  # names, not codes, under a name that is not an id's
    few = visits(subjects=12)  # 12 groups: not subjects
    assert warned(few) == []


@quiet
def test_a_given_schema_is_not_warned_about(tmp_path):
    table = visits()
    assert warned(table, detect(table)) == []


@quiet
def test_the_remedy_writes_no_real_id(tmp_path, capsys):
    table = visits()
    data = tmp_path / "visits.csv"
    table.to_csv(data, index=False)
    schema = detect(table).to_dict()
    (col,) = [c for c in schema["columns"] if c["name"] == "patient"]
    for key in [k for k in col if k not in ("name", "kind")]:
        del col[key]
    col["kind"] = "id"
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    model, out = tmp_path / "m.synthgen", tmp_path / "out.csv"
    for args in (
        ["fit", str(data), "--schema", str(tmp_path / "schema.json"), "-o", str(model)],
        ["sample", str(model), "-n", "600", "-o", str(out), "--seed", "1"],
    ):
        with pytest.raises(SystemExit) as done:
            main(args)
        assert done.value.code == 0
    err = capsys.readouterr().err
    assert "looks like an id" not in err and "patient determines sex" not in err
    rows = pd.read_csv(out)
    assert not rows["patient"].isin(table["patient"]).any()
    assert rows["patient"].is_unique


def test_the_command_line_warns_once(tmp_path, capsys):
    data = tmp_path / "visits.csv"
    visits().to_csv(data, index=False)
    with pytest.raises(SystemExit) as done:
        main(["fit", str(data), "-o", str(tmp_path / "m.synthgen"), "--model", "auto"])
    assert done.value.code == 0
    err = capsys.readouterr().err
    assert err.count("warning: column 'patient' looks like an id") == 1
