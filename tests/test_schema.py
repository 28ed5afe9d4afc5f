"""The schema (synthgen.schema): column kinds detected from the table, the schema as JSON to
edit and pass back with --schema, and a table checked against it, with one clear line for what
does not fit."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import synthgen
from synthgen.errors import SchemaError
from tests.test_bad_input import fit_and_sample, table, write
from tests.test_cli import PENGUINS, run_cli


def test_schema_round_trip(tmp_path, capsys):
    code, text, _ = run_cli(["schema", PENGUINS], capsys)
    schema = json.loads(text)
    kinds = {c["name"]: c["kind"] for c in schema["columns"]}
    assert kinds["species"] == "categorical" and kinds["body_mass_g"] == "numeric"
    for col in schema["columns"]:
        if col["name"] == "year":
            col["kind"] = "categorical"
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    model = str(tmp_path / "m.synthgen")
    code, _, err = run_cli(["fit", PENGUINS, "--schema", str(path), "-o", model, "-q"], capsys)
    assert code == 0, err
    code, text, _ = run_cli(["inspect", model, "--json"], capsys)
    kinds = {c["name"]: c["kind"] for c in json.loads(text)["columns"]}
    assert kinds["year"] == "categorical"


def test_a_column_that_cannot_be_parsed_as_the_schema_says(tmp_path, capsys):
    data = write(tmp_path, "data.csv", table("a,b", [f"{i},{i}" for i in range(29)] + ["29,n/k"]))
    schema = write(tmp_path, "s.json", '{"columns": [{"name": "b", "kind": "numeric"}]}')
    code, _, err = run_cli(["fit", str(data), "--schema", str(schema)], capsys)
    assert code == 3 and "'b' is numeric but has the value 'n/k'" in err
    assert "--schema" in err and len(err.strip().splitlines()) == 1
    dates = write(tmp_path, "d.json", '{"columns": [{"name": "b", "kind": "datetime"}]}')
    code, _, err = run_cli(["fit", str(data), "--schema", str(dates)], capsys)
    assert code == 3 and "no known format" in err and '"format"' in err


def test_duplicate_column_names_in_a_data_frame():
    frame = pd.DataFrame([[1, 2, 3]] * 10, columns=["x", "y", "x"])
    with pytest.raises(SchemaError, match="duplicate column name.*'x'"):
        synthgen.fit(frame)


def test_numbers_mixed_with_words_are_categories(tmp_path, capsys):
    values = ["1", "2", "3", "unknown", "12.5"]
    rows = [f"{i},{values[i % 5]}" for i in range(60)]
    schema, out = fit_and_sample(tmp_path, capsys, table("a,b", rows))
    assert schema["b"].kind == "categorical" and set(out["b"]) <= set(values)


def test_schema_command_reports_number_styles(tmp_path, capsys):
    data = write(tmp_path, "d.csv", table("a;b", ["1;1.234,5", "2;12,25", "3;7"]))
    code, text, _ = run_cli(["schema", str(data)], capsys)
    assert code == 0
    assert re.search(r'"thousands": "\."', text) and re.search(r'"decimal": ","', text)
    assert len(json.loads(text)["columns"]) == 2
