"""The benchmark is a tool, not a test: this only proves it runs, on the smallest sample table
with the fastest models, and writes what it says it writes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks.run import HOLDOUT_SHARE, main, run_isolated, split
from tests.conftest import SAMPLE_DATA


def test_split_is_fixed_disjoint_and_eighty_twenty():
    table = pd.DataFrame({"row": range(101)})
    train, holdout = split(table)
    again, _ = split(table)
    pd.testing.assert_frame_equal(train, again)
    assert len(holdout) == round(HOLDOUT_SHARE * 101) and len(train) + len(holdout) == 101
    assert not set(train["row"]) & set(holdout["row"])
    assert not split(table, seed=1)[0].equals(train)


@pytest.mark.sdv
def test_benchmark_runs_on_penguins_and_writes_its_tables(tmp_path):
    pytest.importorskip("sdv")
    pytest.importorskip("sdmetrics")
    out = tmp_path / "out"
    code = main(
        [
            "--data",
            str(SAMPLE_DATA),
            "--tables",
            "penguins",
            "--models",
            "gaussian-copula,sdv-gaussian-copula,no-such-model",
            "--out",
            str(out),
            "--in-process",
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    [table] = results["tables"]
    assert (table["table"], table["train_rows"], table["holdout_rows"]) == ("penguins", 275, 69)
    assert "no-such-model" in results["skipped"]
    columns = set(pd.read_csv(SAMPLE_DATA / "penguins.csv").columns)
    ceiling = table["ceiling"]["sdmetrics"]
    assert set(ceiling["shapes"]) == columns and 0.5 < ceiling["score"] <= 1
    runs = {entry["model"]: entry for entry in table["models"]}
    assert set(runs) == {"gaussian-copula", "sdv-gaussian-copula"}
    for entry in runs.values():
        assert "error" not in entry, entry.get("error")
        assert entry["fit_s"] > 0 and entry["sample_s"] > 0 and entry["peak_rss_mib"] > 0
        assert set(entry["sdmetrics"]["shapes"]) == columns
        assert 0.3 < entry["sdmetrics"]["score"] < ceiling["score"] + 0.1
    text = (out / "results.md").read_text()
    assert (
        "| penguins | holdout (ceiling) |" in text and "| penguins | sdv-gaussian-copula |" in text
    )
    assert "vs SDV's GaussianCopulaSynthesizer" in text


def test_a_model_runs_in_a_process_of_its_own():
    table = pd.DataFrame({"x": [float(i % 7) for i in range(60)], "c": list("abc") * 20})
    run = run_isolated("gaussian-copula", {}, table, 12)
    assert list(run["synthetic"].columns) == ["x", "c"] and len(run["synthetic"]) == 12
    assert run["fit_s"] > 0 and run["peak_rss_mib"] > 0


@pytest.mark.sdv
def test_field_protocol_samples_the_training_size_and_writes_its_figures(tmp_path):
    pytest.importorskip("sdmetrics")
    out = tmp_path / "out"
    argv = ["--protocol", "field", "--data", str(SAMPLE_DATA), "--tables", "penguins"]
    assert main([*argv, "--models", "gaussian-copula", "--out", str(out), "--in-process"]) == 0
    [table] = json.loads((out / "field.json").read_text())["tables"]
    [entry] = table["models"]
    assert "error" not in entry, entry.get("error")
    for key in ("shape", "trend", "c2st", "coverage", "recall", "dcr_share", "copies"):
        assert 0 <= entry[key] <= 1, key
    assert entry["c2st"] == pytest.approx(min(1.0, 2 * (1 - entry["auc"])))
    assert entry["fit_s"] > 0 and entry["sample_s"] > 0
    text = (out / "field.md").read_text()
    assert "| penguins | gaussian-copula |" in text and "C2ST" in text


def test_auto_is_run_and_held_to_the_best_core_model():
    from benchmarks.run import AUTO_SLACK, _auto_versus_core, available_models

    assert available_models(["auto", "cart"]) == (["auto", "cart"], {})

    def entry(model: str, score: float, chose: str | None = None) -> dict:
        return {"model": model, "chose": chose, "sdmetrics": {"score": score}}

    tables = [
        {"table": t, "models": [entry("gmm", 0.90), entry("cart", 0.88), entry("auto", s, "cart")]}
        for t, s in (("near", 0.90 - AUTO_SLACK / 2), ("far", 0.90 - 2 * AUTO_SLACK))
    ]
    near, far = _auto_versus_core(tables)[-2:]
    assert near.startswith("| near | cart |") and near.endswith("| gmm | 0.900 | +0.005 | yes |")
    assert far.endswith("| gmm | 0.900 | +0.020 | NO |")


def test_more_seeds_give_a_mean_and_auto_is_held_to_it_too():
    from benchmarks.run import _auto_versus_core, _more_seeds

    scores = {"gmm": [0.90, 0.86, 0.88], "cart": [0.88, 0.89, 0.90], "auto": [0.90, 0.89, 0.90]}
    chose = {"gmm": None, "cart": None, "auto": ["gmm", "cart", "cart"]}
    entries = []
    for model, each in scores.items():
        picks = chose[model] or [None] * 3
        entry = {"model": model, "chose": picks[0], "sdmetrics": {"score": each[0]}}

        def draw(seed, model=model, picks=picks):
            return {"model": model, "chose": picks[seed]}, pd.DataFrame({"seed": [seed]})

        def score(rows, each=each):
            return {"score": each[int(rows["seed"].iloc[0])]}

        _more_seeds(entry, 3, draw, score)
        assert [d["seed"] for d in entry["by_seed"]] == [0, 1, 2]
        assert entry["mean"] == pytest.approx(sum(each) / 3)
        entries.append(entry)
    failed = [{k: v for k, v in e.items() if k not in ("mean", "by_seed")} for e in entries]
    table, other = {"table": "t", "models": entries}, {"table": "u", "models": failed}
    row, no_mean = _auto_versus_core([table, other])[-2:]
    # seed 0: gmm 0.900 is the best, auto 0.900; by the mean cart 0.890 is, auto 0.8967
    assert row.startswith("| t | gmm; over 3 seeds 2 cart, 1 gmm | 0.900 | gmm | 0.900 | +0.000 |")
    assert row.endswith("| 0.897 | cart | 0.890 | -0.007 | yes |")
    # a table a later seed failed on has no mean: its row leaves those cells empty
    assert no_mean.endswith("| +0.000 | yes | | | | | |")


def test_rules_cost_benchmark_times_each_stage(capsys):
    from benchmarks.bench_rules_cost import main as rules_cost

    args = ["--data", str(SAMPLE_DATA), "--tables", "penguins", "--models", "gaussian-copula"]
    assert rules_cost([*args, "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "| table | model | detect now | fit now | sample now |" in out
    assert "| table | model | fit | fit, no rules | sample | sample, no rules |" in out
    rows = [line for line in out.splitlines() if line.startswith("| penguins | gaussian-copula |")]
    assert len(rows) == 3  # wall clock, CPU time, and CPU time with discovery switched off
    assert [len(row.strip("|").split("|")) for row in rows] == [5, 5, 8]
    assert all(float(cell) >= 0 for row in rows for cell in row.strip("|").split("|")[2:])


def test_small_tables_benchmark_measures_each_seed(capsys):
    from benchmarks.bench_small import main as small

    assert small(["--tables", "penguins", "--seeds", "0,1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    assert [(e["table"], e["seed"]) for e in lines] == [("penguins", 0), ("penguins", 1)]
    assert all(0 <= e["c2st"] <= 1 and 0 <= e["dcr_share"] <= 1 for e in lines)
    assert all(0 <= e["membership_auc"] <= 1 and e["train_rows"] == 275 for e in lines)
    assert all(0.5 < e["quality"] <= 1 for e in lines)
    assert all(0 <= e["copies"] <= 1 and 0 <= e["holdout_copies"] <= 1 for e in lines)


def test_unseen_tables_are_written_as_shipped_or_without_an_index(tmp_path):
    import zipfile

    from benchmarks.unseen_tables import extract

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "islp-0.6.0-py3-none-any.whl", "w") as w:
        w.writestr("ISLP/data/Default.csv", "default,balance\nNo,729.5\nYes,817.2\n")
        w.writestr("ISLP/data/OJ.csv", ",Purchase,PriceCH\n1,CH,1.75\n2,MM,1.69\n")
    with zipfile.ZipFile(wheels / "statsmodels-0.15.0-cp311-none-any.whl", "w") as w:
        w.writestr("statsmodels/datasets/anes96/anes96.csv", "a\tb\n1\t2\n")
    written = extract(wheels, tmp_path / "out")
    assert sorted(written) == ["Default", "OJ", "anes96"]
    out = tmp_path / "out"
    assert (out / "Default.csv").read_text() == "default,balance\nNo,729.5\nYes,817.2\n"
    assert (out / "OJ.csv").read_text() == "Purchase,PriceCH\nCH,1.75\nMM,1.69\n"
    assert (out / "anes96.csv").read_text() == "a,b\n1,2\n"
