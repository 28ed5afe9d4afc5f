"""The quality report: mode collapse (every planted case flagged, healthy data not), privacy,
utility, the JSON / HTML / terminal outputs, the gates and the command."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.cli import main
from synthgen.compare.values import prepare
from synthgen.errors import GateFailed, UsageError
from synthgen.report import build, collapse, privacy
from synthgen.schema import detect
from tests.test_cli import run_cli
from tests.test_report_fidelity import split

CHROMIUM = "/usr/bin/chromium"  # Debian's; .ci/run installs it


def clusters(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Four well separated clusters in two numbers and a category, a bimodal number, a flag."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 4, n)
    centers = np.array([[0, 0], [8, 0], [0, 8], [8, 8]])
    xy = centers[k] + rng.normal(size=(n, 2))
    names = np.array(["north", "south", "east", "west"])
    region = np.where(rng.random(n) < 0.1, rng.choice(names, n), names[k])
    table = pd.DataFrame(
        {
            "x": xy[:, 0].round(3),
            "y": xy[:, 1].round(3),
            "region": region,
            "bimodal": (np.where(rng.random(n) < 0.5, -3, 3) + rng.normal(size=n)).round(3),
            "flag": rng.choice(["yes", "no"], n),
        }
    )
    return table, k


@pytest.fixture(scope="module")
def world():
    train, _ = clusters(3000, 0)
    holdout, k = clusters(1000, 1)
    schema = detect(train)
    real = prepare(train, schema, "real")
    return train, holdout, k, schema, real


def collapse_verdict(world, synth: pd.DataFrame) -> dict:
    _, _, _, schema, real = world
    return collapse.assess(real, prepare(synth, schema, like=real))


# ---- mode collapse: planted cases ------------------------------------------------------------


def test_few_distinct_rows_repeated_is_collapsed(world):
    train = world[0]
    result = collapse_verdict(world, train.iloc[np.arange(1000) % 5].reset_index(drop=True))
    assert result["verdict"] == "collapsed"
    assert result["duplicates"]["verdict"] == "collapsed"
    assert result["prdc"]["ratio"]["recall"] < 0.1


def test_categorical_column_as_one_value_is_collapsed(world):
    synth = world[1].copy()
    synth["region"] = "north"
    result = collapse_verdict(world, synth)
    assert result["verdict"] == "collapsed"
    region = next(c for c in result["columns"] if c["column"] == "region")
    assert region["verdict"] == "collapsed"
    assert "every synthetic value is 'north'" in region["reasons"][0]


def test_bimodal_column_around_one_mode_is_collapsed(world):
    synth = world[1].copy()
    synth["bimodal"] = -synth["bimodal"].abs()
    result = collapse_verdict(world, synth)
    assert result["verdict"] == "collapsed"
    column = next(c for c in result["columns"] if c["column"] == "bimodal")
    assert column["verdict"] == "collapsed"
    assert any("mode" in r for r in column["reasons"])
    others = [c for c in result["columns"] if c["column"] != "bimodal"]
    assert all(c["verdict"] == "none" for c in others)


def test_a_rare_indicator_a_little_short_is_no_collapse_but_a_squeezed_number_is():
    """A 0/1 column is judged value by value: its 1s at 1.0% of the synthetic rows where the
    real rows hold 2.5% (survival's cgd: 2 rows of 203) are no collapse. Its central 98% had
    lost the 1s, which read as a span of 0% of the real one: collapsed. A number of many values
    squeezed into a fifth of its span still is."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"flag": (np.arange(400) % 40 == 0).astype(int), "x": rng.normal(size=400)})
    synth = real.copy()
    synth["flag"] = (np.arange(400) % 100 == 0).astype(int)
    synth["x"] = rng.normal(size=400)
    schema = detect(real)
    prepared = prepare(real, schema, "real")
    result = collapse.assess(prepared, prepare(synth, schema, like=prepared))
    flag = next(c for c in result["columns"] if c["column"] == "flag")
    assert (real["flag"].mean(), synth["flag"].mean()) == (0.025, 0.01)
    assert flag["verdict"] == "none" and result["verdict"] == "none", flag["reasons"]
    synth["x"] = synth["x"] / 8
    result = collapse.assess(prepared, prepare(synth, schema, like=prepared))
    x = next(c for c in result["columns"] if c["column"] == "x")
    assert x["verdict"] == "collapsed" and "central 98%" in x["reasons"][0], x["reasons"]


def test_categories_too_rare_to_write_are_no_collapse_but_a_lost_common_one_is():
    """A category fewer than the rare threshold's rows hold is never written (for privacy):
    great_tables' peeps holds 25 provinces in 100 rows, 18 of 19 of them rare, and every
    synthetic row's province was the one common one, read as collapsed. A column whose
    categories are all rare is judged on nothing; a common category lost still collapses."""
    rng = np.random.default_rng(0)
    n = 900
    rare = ["Prov" + "abcdefghij"[i % 10] + "klmn"[i // 10] for i in range(40)] * 2  # 2 rows each
    province = np.array(["ON"] * 400 + rare + [None] * (n - 400 - len(rare)), dtype=object)
    once = ["Q" + "abcdefghijklmnopqrst"[i] if i < 20 else None for i in range(n)]
    real = pd.DataFrame({"province": province, "all_rare": once, "x": rng.normal(size=n)})
    synth = real.copy()
    synth["province"] = np.where(real["province"].notna(), "ON", None)
    synth["all_rare"] = None
    synth["x"] = rng.normal(size=n)
    schema = detect(real)
    prepared = prepare(real, schema, "real")
    result = collapse.assess(prepared, prepare(synth, schema, like=prepared))
    assert result["verdict"] == "none", result["reasons"]
    assert (
        collapse.assess(prepared, prepare(synth, schema, like=prepared), rare_rows=2)["verdict"]
        == "collapsed"
    )  # where those categories could be written, losing them is collapse


def test_only_one_cluster_reproduced_is_collapsed(world):
    fresh, k = clusters(6000, 2)
    synth = fresh[k == 0].iloc[:1000].reset_index(drop=True)  # new rows, one cluster only
    result = collapse_verdict(world, synth)
    assert result["verdict"] == "collapsed"
    assert result["prdc"]["verdict"] == "collapsed"
    assert result["prdc"]["ratio"]["coverage"] < 0.5


def test_real_holdout_is_not_flagged(world):
    result = collapse_verdict(world, world[1])
    assert result["verdict"] == "none", result["reasons"]


@pytest.mark.trained
def test_gaussian_copula_sample_is_not_flagged(world, seed):
    train = world[0]
    synth = synthgen.fit(train.iloc[:1500], seed=seed).sample(1000, seed=seed)
    result = collapse_verdict(world, synth)
    assert result["verdict"] == "none", result["reasons"]  # seeds 0-9, three kernel pairs


@pytest.mark.trained
def test_real_tables_not_flagged(penguins_raw, seed):
    # the split stays (data): on some others a comment falls under the rare threshold, the
    # sample writes one comment only, and the column is rightly flagged
    train, holdout = split(penguins_raw)
    schema = detect(train)
    real = prepare(train, schema, "real")
    model = synthgen.fit(train, schema=schema, seed=seed)
    for synth in (holdout, model.sample(300, seed=seed + 1)):
        result = collapse.assess(real, prepare(synth, schema, like=real))
        assert result["verdict"] == "none", result["reasons"]


# ---- privacy -----------------------------------------------------------------------------------


def privacy_of(train, synth, holdout, schema):
    real = prepare(train, schema, "real")
    return privacy.assess(
        real, prepare(synth, schema, like=real), prepare(holdout, schema, like=real)
    )


def test_copy_of_training_rows_fails_privacy(penguins):
    train, holdout = split(penguins)
    result = privacy_of(train, train.sample(len(holdout), random_state=0), holdout, detect(train))
    assert result["verdict"] == "fail"
    assert result["exact_copies"]["synthetic_share"] == 1.0
    assert result["dcr"]["closer_share"] > 0.95
    assert any("exact copies" in r for r in result["reasons"])


@pytest.mark.trained
def test_copula_sample_and_holdout_pass_privacy(penguins, seed):
    train, holdout = split(penguins)
    schema = detect(train)
    synth = synthgen.fit(train, schema=schema, seed=seed).sample(len(holdout), seed=seed)
    result = privacy_of(train, synth, holdout, schema)
    # closer than holdout rows: 0.10-0.25 of synthetic rows over splits 0-9 and seeds 0-9 (a
    # warning from 0.6); below the holdout's 5% NNDR: 0-3% (a warning from 12%)
    assert result["verdict"] == "pass", result["reasons"]
    first, second = split(holdout, seed=1)  # real against real: no model, one fixed split
    result = privacy_of(train, first, second, schema)
    assert result["verdict"] == "pass", result["reasons"]
    assert 0.3 < result["dcr"]["closer_share"] < 0.7


def test_near_copies_fail_on_distance(world):
    train, holdout, _, schema, _ = world
    near = train.iloc[:1000].copy()
    near["x"] = near["x"] + 0.001  # every row a training row, nudged
    result = privacy_of(train, near, holdout, schema)
    assert result["exact_copies"]["synthetic_share"] == 0.0
    assert result["verdict"] == "fail"
    assert result["dcr"]["closer_share"] > 0.9


def test_rare_values_written_verbatim_are_reported(penguins_raw):
    train, holdout = split(penguins_raw)
    schema = detect(train)
    synth = holdout.copy()
    rare_comment = train["Comments"].value_counts()
    rare = rare_comment[rare_comment < 5].index[0]
    synth["Comments"] = rare
    result = privacy_of(train, synth, holdout, schema)
    column = next(c for c in result["rare_values"]["columns"] if c["column"] == "Comments")
    assert column == {"column": "Comments", "values": 1, "rows": len(synth)}
    assert result["verdict"] in ("warn", "fail")
    assert rare not in json.dumps(result)  # the rare value itself is never written out
    report = build(train, synth, holdout=holdout)
    assert rare not in report.to_json() and rare not in report.to_html()


def test_no_holdout_says_what_it_can(penguins):
    real = prepare(penguins, detect(penguins), "real")
    result = privacy.assess(real, prepare(penguins, detect(penguins), like=real))
    assert result["dcr"] is None and result["nndr"] is None
    assert result["verdict"] == "fail"  # every row is a copy
    assert any("holdout=" in n for n in result["notes"])  # Python's words: a keyword argument


# ---- the report ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(penguins):
    train, holdout = split(penguins)
    model = synthgen.fit(train, seed=0)
    synth = model.sample(len(holdout), seed=0)
    return build(train, synth, holdout=holdout, model=model, target="species"), train, synth


def test_report_sections_and_json_keys(built):
    report, train, synth = built
    assert report.score == pytest.approx(synthgen.report(train, synth).score)
    data = json.loads(report.to_json())
    assert data["version"] == 2 and data["format"] == "synthgen-report"
    assert 0 <= data["score"] <= 1
    assert {c["column"] for c in data["fidelity"]["column_shapes"]} == set(train.columns)
    assert data["fidelity"]["column_pair_trends"][0].keys() >= {
        "column_1",
        "column_2",
        "metric",
        "score",
        "counted",
    }
    assert data["mode_collapse"]["verdict"] == "none"
    assert data["privacy"]["verdict"] == "pass"
    assert isinstance(data["mode_collapse"]["reasons"], list)
    assert data["utility"]["task"] == "classification"
    assert data["utility"]["real"]["accuracy"] > 0.9
    assert 0.3 < data["fidelity"]["detection"]["auc"] < 1


def test_report_schema_doc_names_the_keys(built):
    doc = (Path(__file__).parent.parent / "docs" / "report-schema.md").read_text()
    data = json.loads(built[0].to_json())
    for key in data:
        assert f"`{key}`" in doc, key
    for section in ("fidelity", "mode_collapse", "privacy", "rules", "utility"):
        for key in data[section]:
            assert f"`{section}.{key}`" in doc, f"{section}.{key}"


def test_html_is_one_offline_file(built):
    page = built[0].to_html()
    assert page.count("<svg") >= 8 + 3  # a chart per column, three heatmaps
    lowered = page.lower()
    assert "<script" not in lowered and "http://" not in lowered and "https://" not in lowered
    assert "<link" not in lowered


def test_html_escapes_names():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"<b>x</b>": rng.normal(size=200), "c": rng.choice(["<i>", "&"], 200)})
    page = build(real, real.sample(frac=1, random_state=1)).to_html()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_a_table_of_free_text_only_reports_and_renders(tmp_path, capsys):
    """No column the report compares (one free-text column: an R table read with the wrong
    delimiter looks so): the privacy figures say nothing is a copy, and the HTML renders (it
    raised on the copies' missing baseline)."""
    rng = np.random.default_rng(0)
    words = np.array(["red", "green", "blue", "north", "south", "east", "west", "old", "new"])
    notes = [" ".join(rng.choice(words, 6)) + f" {i}" for i in range(120)]
    path = tmp_path / "notes.csv"
    pd.DataFrame({"note": notes}).to_csv(path, index=False)
    built_report = build(pd.read_csv(path), pd.read_csv(path).sample(frac=1, random_state=1))
    copies = built_report.to_dict()["privacy"]["exact_copies"]
    assert copies["synthetic_share"] == 0.0 and copies["baseline"] == "no column compared"
    assert "Exact copies" in built_report.to_html()
    out = tmp_path / "out"
    code, _, err = run_cli(["run", str(path), "-d", str(out), "--seed", "0"], capsys)
    assert code == 0, err
    assert (out / "report.html").exists() and (out / "synthetic.csv").exists()


@pytest.fixture
def chromium() -> str:
    """Debian's chromium; skipped where it is missing, except in CI (CI set), where the browser
    test must run: there a missing chromium fails."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"CI runs the browser test: {CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip("needs Debian's chromium (apt-get install chromium)")


def test_html_renders_in_headless_chromium(built, tmp_path, chromium):
    page = tmp_path / "report.html"
    page.write_text(built[0].to_html(), encoding="utf-8")
    shot = tmp_path / "shot.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    run = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.count("<svg") >= 11 and "synthgen quality report" in run.stdout
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_terminal_summary(built):
    from rich.console import Console

    console = Console(record=True, width=100)
    built[0].render(console, ["report.html"])
    text = console.export_text()
    assert "Quality score" in text and "Mode collapse" in text and "Privacy" in text
    assert "report.html" in text
    assert len(text.splitlines()) < 30  # one screen


def test_gates(built):
    report = built[0]
    assert report.gate_failures() == []
    assert report.exit_code(fail_under=0.1, fail_on=["collapse,privacy"]) == 0
    assert report.exit_code(fail_under=0.999) == 1
    with pytest.raises(GateFailed, match="below fail_under=0.999"):
        report.check(fail_under=0.999)
    with pytest.raises(UsageError, match="unknown fail_on"):
        report.gate_failures(fail_on=["colapse"])


def test_gate_fails_on_collapse_and_privacy(penguins):
    train, holdout = split(penguins)
    copies = train.iloc[np.arange(len(holdout)) % 3].reset_index(drop=True)
    report = build(train, copies, holdout=holdout)
    assert report.mode_collapse["verdict"] == "collapsed"
    assert report.privacy["verdict"] == "fail"
    failures = report.gate_failures(fail_on=["collapse", "privacy"])
    assert [f.split(":")[0] for f in failures] == ["mode collapse", "privacy"]


def test_regression_target(built):
    _, train, synth = built
    from synthgen.report import utility

    real = prepare(train, detect(train), "real")
    result = utility.assess(real, prepare(synth, detect(train), like=real), "body_mass_g")
    assert result["task"] == "regression" and result["metric"] == "r2"
    assert result["real"]["r2"] > 0.5
    with pytest.raises(UsageError, match="not a column"):
        build(train, synth, target="nope")


# ---- the command -------------------------------------------------------------------------------


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return exit_info.value.code


@pytest.fixture(scope="module")
def files(tmp_path_factory, penguins):
    folder = tmp_path_factory.mktemp("report")
    train, holdout = split(penguins)
    paths = {name: folder / f"{name}.csv" for name in ("train", "holdout", "synth", "copy")}
    train.to_csv(paths["train"], index=False)
    holdout.to_csv(paths["holdout"], index=False)
    synthgen.fit(train, seed=0).sample(len(holdout), seed=0).to_csv(paths["synth"], index=False)
    train.iloc[: len(holdout)].to_csv(paths["copy"], index=False)
    return paths


def test_command_writes_json_and_html(files, tmp_path, capsys):
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code = cli(
        "report",
        str(files["train"]),
        str(files["synth"]),
        "--holdout",
        str(files["holdout"]),
        "--json",
        str(out_json),
        "--html",
        str(out_html),
    )
    assert code == 0
    assert json.loads(out_json.read_text())["privacy"]["verdict"] == "pass"
    assert out_html.read_text().startswith("<!DOCTYPE html>")
    assert "Quality score" in capsys.readouterr().out
    # an existing output is kept without --force
    assert cli("report", str(files["train"]), str(files["synth"]), "--json", str(out_json)) == 5


def test_command_json_to_stdout(files, capsys):
    assert cli("report", str(files["train"]), str(files["synth"]), "--json", "-") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["version"] == 2
    assert "Quality score" in captured.err


def test_command_gates(files, capsys):
    args = ["report", str(files["train"]), str(files["copy"]), "--holdout", str(files["holdout"])]
    assert cli(*args, "--quiet") == 0
    assert cli(*args, "--quiet", "--fail-on", "privacy") == 1
    err = " ".join(capsys.readouterr().err.split())  # rich wraps the one message to the width
    assert err.startswith("error: quality gate failed: privacy: 100.0% of synthetic rows")
    assert err.count("error:") == 1
    assert cli(*args, "--quiet", "--fail-under", "1") == 1
    assert cli(*args, "--fail-under", "2") == 2
    assert cli(*args, "--fail-on", "speed") == 2


def test_command_help_ends_with_example():
    from typer.testing import CliRunner

    from synthgen.cli import app

    result = CliRunner().invoke(app, ["report", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Example" in result.output and "synthgen report sample_data/penguins.csv" in (
        " ".join(result.output.split())
    )


def test_missing_column_is_one_line_error(files, tmp_path, capsys):
    narrow = tmp_path / "narrow.csv"
    pd.read_csv(files["synth"]).drop(columns=["island"]).to_csv(narrow, index=False)
    assert cli("report", str(files["train"]), str(narrow)) == 3
    assert "lacks column(s) ['island']" in capsys.readouterr().err


def test_a_wide_table_lists_its_weakest_counted_pairs(monkeypatch):
    """Past `LISTED_PAIRS` pairs the JSON lists the counted pairs only, weakest first (a table
    of 2,000 columns has 2 million pairs); the scores, the heatmap and the text are those of a
    report that lists every pair."""
    import synthgen.report as report_module

    rng = np.random.default_rng(0)
    n = 400
    base = rng.normal(size=(n, 3))
    real = pd.DataFrame(
        {f"x{k}": base[:, k % 3] + 0.5 * rng.normal(size=n) for k in range(9)}
        | {"c": np.where(base[:, 0] > 0, "up", "down"), "free": rng.normal(size=n)}
    )
    synth = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    for name in ("x1", "x5", "c"):
        synth[name] = rng.permutation(synth[name].to_numpy())
    every = build(real, synth).to_dict()["fidelity"]
    monkeypatch.setattr(report_module, "LISTED_PAIRS", 10)
    wide = build(real, synth)
    some = wide.to_dict()["fidelity"]
    assert every["column_pair_trends_listed"] == {
        "pairs": 55,
        "counted": sum(p["counted"] for p in every["column_pair_trends"]),
        "listed": 55,
        "which": "all",
    }
    counted = sorted(
        (p for p in every["column_pair_trends"] if p["counted"]), key=lambda p: p["score"]
    )
    assert len(counted) > 10
    assert some["column_pair_trends_listed"] == {
        "pairs": 55,
        "counted": len(counted),
        "listed": 10,
        "which": "weakest counted",
    }
    assert some["column_pair_trends"] == counted[:10]
    for key in ("score", "column_shapes_score", "column_pair_trends_score"):
        assert some[key] == every[key]
    assert wide.charts["associations"] == build(real, synth).charts["associations"]
    assert "x1" in wide.to_html()
