"""Privacy measured by attack: membership and attribute inference in the report.

Margins measured over 20 seeds of the generated world (`clusters`, 3,000 training and 1,000
holdout rows): a generator that does not copy gives a membership AUC of 0.456 to 0.521 and a
largest attribute risk of -0.03 to +0.04 (every verdict `pass`); the training table itself gives
AUC 1.0 and risk 0.47 to 0.55. Adult and penguins: benchmarks/bench_attacks.py.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from synthgen.compare.values import prepare
from synthgen.report import attacks, build, privacy
from synthgen.report.space import Space
from synthgen.schema import detect
from tests.test_report import cli, clusters
from tests.test_report_fidelity import split


@pytest.fixture(scope="module")
def world():
    train, _ = clusters(3000, 0)
    holdout, _ = clusters(1000, 1)
    fresh, _ = clusters(3000, 2)  # a generator that copies nobody: the same law, new draws
    schema = detect(train)
    real = prepare(train, schema, "real")
    return train, holdout, fresh, schema, real


def attacked(world, synth: pd.DataFrame, holdout: pd.DataFrame | None = None) -> dict:
    train, default, _, schema, real = world
    h = prepare(default if holdout is None else holdout, schema, like=real)
    return attacks.assess(real, prepare(synth, schema, like=real), h, Space(real))


def test_training_table_as_synthetic_is_caught(world):
    result = attacked(world, world[0])
    mi, ai = result["membership_inference"], result["attribute_inference"]
    assert mi["auc"] >= 0.9 and mi["interval"][0] > 0.8
    assert mi["verdict"] == "fail"
    assert mi["rows"] == {"training": 500, "holdout": 500, "synthetic": 3000}
    # "flag" is a coin toss: the copy gives it away, a stranger's row half the time
    flag = next(c for c in ai["columns"] if c["column"] == "flag")
    assert flag["training_accuracy"] == 1.0
    assert flag["risk"] > 0.3 and flag["interval"][0] > 0.2
    assert ai["verdict"] == "fail"


def test_a_generator_that_does_not_copy_passes(world):
    result = attacked(world, world[2])
    mi, ai = result["membership_inference"], result["attribute_inference"]
    assert abs(mi["auc"] - 0.5) < 0.05 and mi["interval"][0] < 0.5
    assert mi["verdict"] == "pass"
    assert [c["column"] for c in ai["columns"]] == ["region", "flag"]
    for c in ai["columns"]:
        assert abs(c["risk"]) < 0.08 and c["interval"][0] < 0 < c["interval"][1] + 0.02
    assert ai["verdict"] == "pass"


def test_holdout_rows_as_synthetic_pass(world):
    # real rows the model never saw, judged against other real rows it never saw
    first, second = world[1].iloc[:500], world[1].iloc[500:]
    result = attacked(world, first, second)
    assert abs(result["membership_inference"]["auc"] - 0.5) < 0.05
    assert result["membership_inference"]["verdict"] == "pass"
    assert all(abs(c["risk"]) < 0.08 for c in result["attribute_inference"]["columns"])


def test_nudged_copies_fail_privacy_through_the_attacks(world):
    train, holdout, _, schema, real = world
    near = train.copy()
    near["x"] = near["x"] + 0.001  # no exact copy, every row a training row
    result = privacy.assess(
        real, prepare(near, schema, like=real), prepare(holdout, schema, like=real)
    )
    assert result["exact_copies"]["synthetic_share"] == 0.0
    assert result["verdict"] == "fail"
    assert any(r.startswith("membership inference: ") for r in result["reasons"])
    assert any(r.startswith("attribute inference: ") for r in result["reasons"])


def test_a_failing_attack_alone_fails_the_verdict_and_the_gate(world, monkeypatch):
    train, holdout, synth, schema, _ = world
    assert build(train, synth, holdout=holdout, schema=schema).privacy["verdict"] == "pass"
    real_assess = attacks.assess

    def leaky(*args, **kwargs):
        out = real_assess(*args, **kwargs)
        out["membership_inference"].update(auc=0.9, interval=[0.85, 0.95], verdict="fail")
        return out

    monkeypatch.setattr(attacks, "assess", leaky)
    report = build(train, synth, holdout=holdout, schema=schema)
    assert report.privacy["verdict"] == "fail"
    (failure,) = report.gate_failures(fail_on=["privacy"])
    assert failure.startswith("privacy: membership inference: ") and "AUC 0.90" in failure


def test_without_holdout_the_attacks_are_not_checked(world):
    train, _, _, schema, _ = world
    report = build(train, train, schema=schema)
    mi, ai = report.privacy["membership_inference"], report.privacy["attribute_inference"]
    assert mi == {"verdict": "not checked", "reason": "no holdout"}
    assert ai["verdict"] == "not checked" and ai["columns"] == []
    assert any("no attacks" in n for n in report.privacy["notes"])
    assert not any("inference" in r for r in report.privacy["reasons"])


def test_a_tiny_holdout_or_no_category_is_not_checked(world):
    train, holdout, fresh, schema, real = world
    result = attacked(world, fresh, holdout.iloc[:5])
    assert result["membership_inference"]["verdict"] == "not checked"
    numbers = train[["x", "y"]]
    real = prepare(numbers, detect(numbers), "real")
    h = prepare(holdout[["x", "y"]], detect(numbers), like=real)
    result = attacks.assess(real, real, h, Space(real))
    assert result["membership_inference"]["verdict"] == "fail"
    assert result["attribute_inference"] == {
        "verdict": "not checked",
        "reason": "no categorical column to guess",
        "columns": [],
    }


def test_secret_columns_are_the_categories_hardest_to_guess():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "even": rng.choice(list("abcd"), 500),
            "skewed": rng.choice(list("ab"), 500, p=[0.95, 0.05]),
            "coin": rng.choice(list("ab"), 500),
            "one": "x",
            "many": rng.choice(list("abcdefgh"), 500),
            "n": rng.normal(size=500),
        }
    )
    assert attacks.secret_columns(prepare(table, detect(table))) == ["many", "even", "coin"]


# ---- the pieces ---------------------------------------------------------------------------------


def test_membership_auc_is_roc_auc_and_its_interval_covers():
    rng = np.random.default_rng(0)
    covered = 0
    for trial in range(300):
        d_t = rng.exponential(size=200).round(1)  # rounded: ties, counted half
        d_h = rng.exponential(size=200).round(1)
        result = attacks.membership(d_t, d_h)
        if trial < 5:
            labels = np.r_[np.ones(200), np.zeros(200)]
            assert result["auc"] == pytest.approx(roc_auc_score(labels, -np.r_[d_t, d_h]))
        covered += result["interval"][0] <= 0.5 <= result["interval"][1]
    # nominal 95%: 285 of 300; the binomial spread is about 4
    assert 270 <= covered <= 297


def test_attribute_risk_interval_covers():
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(300):
        result = attacks.inference(rng.random(300) < 0.7, rng.random(300) < 0.7)
        covered += result["interval"][0] <= 0 <= result["interval"][1]
    assert 270 <= covered <= 297


def test_closest_agrees_with_brute_force(world):
    train, holdout, fresh, schema, real = world
    space = Space(real)
    queries = space.transform(prepare(holdout, schema, like=real))[:300]
    reference = space.transform(prepare(fresh, schema, like=real))
    blocks = attacks._blocks(space)
    hidden = [blocks["region"], blocks["flag"]]
    distance, picks = attacks.closest(queries, reference, hidden)
    full = np.sqrt(((queries[:, None, :] - reference[None, :, :]) ** 2).sum(axis=2))
    np.testing.assert_allclose(distance, full.min(axis=1), atol=2e-3)
    for s, pick in zip(hidden, picks, strict=True):
        keep = np.ones(space.width, dtype=bool)
        keep[s] = False
        other = ((queries[:, None, keep] - reference[None, :, keep]) ** 2).sum(axis=2)
        rows = np.arange(len(queries))
        # the row picked is the closest on the other axes, up to float32 rounding
        assert (other[rows, pick] <= other.min(axis=1) + 1e-4).all()
    copies = attacks.closest(reference[:50], reference, [])[0]
    assert (copies == 0).all()


# ---- outputs ------------------------------------------------------------------------------------


def test_json_terminal_and_html_show_the_attacks(penguins):
    from rich.console import Console

    train, holdout = split(penguins)
    report = build(train, train, holdout=holdout)
    data = json.loads(report.to_json())["privacy"]
    assert data["membership_inference"]["auc"] == 1.0
    assert len(data["membership_inference"]["interval"]) == 2
    for c in data["attribute_inference"]["columns"]:
        assert set(c) == {
            "column",
            "risk",
            "interval",
            "training_accuracy",
            "holdout_accuracy",
            "verdict",
        }
    console = Console(record=True, width=160)
    report.render(console)
    assert "membership AUC 1.00 [1.00, 1.00]" in console.export_text()
    page = report.to_html()
    assert "<h2>Privacy: attacks</h2>" in page and "secret column" in page
    bare = build(train, train)
    assert "Not checked: no holdout" in bare.to_html()


def test_command_fails_privacy_on_nudged_copies(tmp_path, penguins, capsys):
    train, holdout = split(penguins)
    near = train.copy()
    near["body_mass_g"] = pd.to_numeric(near["body_mass_g"]) + 1.0  # no exact copy left
    for name, table in (("train", train), ("holdout", holdout), ("near", near)):
        table.to_csv(tmp_path / f"{name}.csv", index=False)
    args = ["report", str(tmp_path / "train.csv"), str(tmp_path / "near.csv")]
    out = tmp_path / "r.json"
    code = cli(
        *args,
        "--holdout",
        str(tmp_path / "holdout.csv"),
        "--fail-on",
        "privacy",
        "--json",
        str(out),
    )
    assert code == 1
    data = json.loads(out.read_text())["privacy"]
    assert data["exact_copies"]["synthetic_share"] < 0.01  # the rows without a number
    assert data["membership_inference"]["verdict"] == "fail"
    assert "quality gate failed: privacy" in " ".join(capsys.readouterr().err.split())
