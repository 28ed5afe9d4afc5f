"""A product rule declared in a schema (`total = price * qty`, `share = 100 * part / whole`):
its text and JSON, its check within the columns' rounding, and every core model keeping it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import synthgen
from synthgen.cli import app
from synthgen.errors import ModelFileError, SchemaError
from synthgen.rules.check import broken
from synthgen.rules.keepers import significant, written_digits
from synthgen.rules.model import Rule
from tests.conftest import FAST_PARAMS

TOTAL = Rule("product", ("price", "qty", "total"), signs=(1, 1), factor=1.0)
SHARE = Rule("product", ("part", "whole", "share"), signs=(1, -1), factor=100.0)
MODELS = ["gaussian-copula", "gmm", "cart", pytest.param("ctgan", marks=pytest.mark.torch)]
PARAMS = {**FAST_PARAMS, "ctgan": {**FAST_PARAMS["ctgan"], "epochs": 3}}


def orders(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """Prices times quantities, and a part's share of a whole written to six significant
    digits, as R and many exports write them."""
    rng = np.random.default_rng(seed)
    price = rng.integers(100, 5000, n) / 100
    qty = rng.integers(1, 40, n)
    whole = rng.integers(50, 5000, n)
    part = np.floor(whole * rng.beta(8, 2, n))
    return pd.DataFrame(
        {
            "price": price,
            "qty": qty,
            "total": np.round(price * qty, 2),
            "whole": whole,
            "part": part,
            "share": significant(100 * part / whole, 6),
            "region": rng.choice(["north", "south", "east"], n),
        }
    )


def ruled(table: pd.DataFrame, rules=(TOTAL, SHARE)) -> synthgen.Schema:
    schema = synthgen.detect(table)
    schema.rules = list(rules)
    return schema


def test_text_and_json_of_a_product():
    assert TOTAL.text() == "total = price * qty"
    assert SHARE.text() == "share = 100 * part / whole"
    assert Rule("product", ("a", "b", "t"), signs=(-1, -1), factor=2.0).text() == "t = 2 / a / b"
    for rule in (TOTAL, SHARE):
        assert Rule.from_dict(json.loads(json.dumps(rule.to_dict()))) == rule
    assert Rule.from_dict({"kind": "product", "columns": ["a", "b", "t"]}).factor == 1.0


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"kind": "product", "columns": ["a", "t"]}, "names 3 to 3 columns"),
        ({"kind": "product", "columns": ["a", "b", "t"], "factor": 0}, "other than 0"),
        ({"kind": "product", "columns": ["a", "b", "t"], "factor": "x"}, "is a number"),
        ({"kind": "product", "columns": ["a", "b", "t"], "signs": [1, 2]}, r"\+1 or -1"),
        ({"kind": "identity", "columns": ["a", "t"], "factor": 2}, "only a product rule"),
    ],
)
def test_a_bad_product_entry_is_refused_in_one_line(entry, message):
    with pytest.raises(SchemaError, match=message) as err:
        Rule.from_dict(entry)
    assert "\n" not in str(err.value)


def test_the_check_allows_the_columns_rounding_and_no_more():
    real = orders()
    schema = ruled(real)
    assert not broken(TOTAL, real, real, schema).any()
    assert not broken(SHARE, real, real, schema).any()
    off = real.copy()
    off.loc[:9, "total"] += 1  # beyond half a cent and what a price rounded to cents moves it by
    off.loc[:9, "share"] *= 1.001  # a thousandth: beyond six digits' rounding
    off.loc[10:19, "whole"] = 0  # a divisor of 0: not judged
    assert broken(TOTAL, off, real, schema).sum() == 10
    assert broken(SHARE, off, real, schema)[:10].all()
    assert not broken(SHARE, off, real, schema)[10:].any()


def test_written_digits():
    assert written_digits(np.array([0.091398, 12.5, 1270.96, 0.0])) == 6
    assert written_digits(np.array([1.0 / 3, 2.0 / 3])) is None
    assert significant(np.array([123456.0, -0.00123456]), 3).tolist() == [123000.0, -0.00123]


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return orders()


@pytest.mark.parametrize("name", MODELS)
def test_every_model_keeps_a_product_and_a_ratio(real, name):
    if name == "ctgan" and not synthgen.models.REGISTRY["ctgan"].available():
        pytest.skip("torch is not installed")
    schema = ruled(real)
    model = synthgen.fit(real, model=name, schema=schema, seed=0, **PARAMS[name])
    decided = {k.rule.text(): k.writes[0] for k in model.encoder_.keepers}
    # a ratio decides its numerator: the model learns the share and the whole
    assert decided == {TOTAL.text(): "total", SHARE.text(): "part"}
    rows = model.sample(1500, seed=1)
    assert not broken(TOTAL, rows, real, schema).any()
    assert not broken(SHARE, rows, real, schema).any()
    assert list(rows.columns) == list(real.columns)
    assert (rows["part"] == np.round(rows["part"])).all()  # on the column's grid


def test_a_taken_target_turns_a_product_round(real):
    """Where another rule decides the product's target, it decides a source instead (the last
    one), and both rules hold."""
    product = Rule("product", ("qty", "price", "total"), signs=(1, 1), factor=1.0)
    table = real.assign(extra=np.round(real["total"] - real["whole"], 2))
    rules = [Rule("identity", ("whole", "extra", "total"), signs=(1, 1)), product]
    schema = ruled(table, rules)
    model = synthgen.fit(table, model="cart", schema=schema, seed=0)
    decided = {k.rule.text(): k.writes[0] for k in model.encoder_.keepers}
    assert decided == {rules[0].text(): "total", product.text(): "price"}
    rows = model.sample(1000, seed=1)
    assert not any(broken(r, rows, table, schema).any() for r in rules)


@pytest.mark.parametrize("name", ["gaussian-copula", "gmm", "cart"])
def test_a_ratio_whose_target_and_divisor_are_taken_solves_its_numerator(name, tmp_path):
    """Interaction terms (star98's shape): `r = sr / s` and `f = sf / s` each decide their
    numerator and learn their ratio, so `f = rf / r` finds its target and its divisor taken.
    It decides its numerator, `rf = f * r`, computed from the two (no ratio of its own is
    learned), and every rule holds, also from the saved file. Before, it was dropped and the
    rows broke it in 99% of rows."""
    rng = np.random.default_rng(0)
    s = rng.uniform(3, 9, 600).round(3)
    r = rng.uniform(12, 25, 600).round(2)
    f = rng.uniform(5, 60, 600).round(2)
    table = pd.DataFrame({"s": s, "r": r, "f": f, "sr": s * r, "sf": s * f, "rf": r * f})
    table = table.round(5)
    rules = [
        Rule("product", ("sr", "s", "r"), signs=(1, -1), factor=1.0),
        Rule("product", ("sf", "s", "f"), signs=(1, -1), factor=1.0),
        Rule("product", ("rf", "r", "f"), signs=(1, -1), factor=1.0),
    ]
    schema = ruled(table, rules)
    model = synthgen.fit(table, model=name, schema=schema, seed=0)
    kept = {k.rule.text(): (k.writes, k.ratio) for k in model.encoder_.keepers}
    assert kept == {
        rules[0].text(): (("sr", "r"), True),
        rules[1].text(): (("sf", "f"), True),
        rules[2].text(): (("rf",), False),
    }
    assert model.encoder_.dropped == []
    path = tmp_path / "m.synthgen"
    model.save(str(path))
    for rows in (model.sample(800, seed=1), synthgen.load(str(path)).sample(800, seed=1)):
        for rule in rules:
            assert not broken(rule, rows, table, schema).any(), rule.text()


def test_a_computed_share_is_written_as_the_real_one_is(real):
    """Where an identity decides the part, the ratio decides the share: computed from a drawn
    part and whole, it has the real column's six significant digits, not a float's seventeen."""
    table = real.assign(rest=real["whole"] - real["part"])
    rules = [Rule("identity", ("whole", "rest", "part"), signs=(1, -1)), SHARE]
    schema = ruled(table, rules)
    model = synthgen.fit(table, model="gaussian-copula", schema=schema, seed=0)
    assert {k.rule.text(): k.writes[0] for k in model.encoder_.keepers}[SHARE.text()] == "share"
    rows = model.sample(500, seed=1)
    share = rows["share"].to_numpy()
    assert np.array_equal(significant(share, 6), share)
    assert not (significant(share, 5) == share).all()
    assert not broken(SHARE, rows, table, schema).any()


def test_the_cli_keeps_a_declared_product_and_the_report_checks_it(real, tmp_path):
    data = tmp_path / "orders.csv"
    real.to_csv(data, index=False)
    runner = CliRunner()
    out = runner.invoke(app, ["schema", str(data)])
    assert out.exit_code == 0, out.output
    schema = json.loads(out.stdout)
    schema["rules"] = [TOTAL.to_dict(), SHARE.to_dict()]
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    model, rows = tmp_path / "m.synthgen", tmp_path / "rows.csv"
    given = ["--schema", str(tmp_path / "schema.json")]
    report = ["report", str(data), str(rows), *given, "--fail-on", "rules"]
    for args in (
        ["fit", str(data), *given, "-o", str(model)],
        ["sample", str(model), "-n", "500", "-o", str(rows), "--seed", "1"],
        report,
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    edited = pd.read_csv(rows)
    edited.loc[:99, "total"] += 1
    edited.to_csv(rows, index=False)
    result = runner.invoke(app, report)
    assert result.exit_code == 1
    assert "total = price * qty" in result.output


@pytest.mark.parametrize("name", ["gaussian-copula", "cart"])
def test_conditions_and_fill_keep_a_ratio(real, name):
    schema = ruled(real)
    model = synthgen.fit(real, model=name, schema=schema, seed=0)
    asked = model.sample(300, seed=2, where=["share>=90"])
    assert len(asked) == 300 and (asked["share"] >= 90).all()
    assert not broken(SHARE, asked, real, schema).any()
    given = real.head(60).astype({"part": float, "price": float, "total": float})
    given[["part", "price", "total"]] = np.nan
    filled = model.fill(given, seed=3)
    assert (filled["share"] == given["share"]).all()  # given cells kept
    # the learned ratio is set to each given share: the part comes back as it was
    assert (filled["part"] == real["part"].head(60)).all()
    assert not broken(SHARE, filled, real, schema).any()
    assert not broken(TOTAL, filled, real, schema).any()


def counties(n: int = 500, seed: int = 0) -> pd.DataFrame:
    """Counts of three groups summing to a population, each group's percent of it, and the
    population's density over an area written to three decimals (as plotnine's midwest)."""
    rng = np.random.default_rng(seed)
    population = rng.integers(2_000, 200_000, n)
    minor = rng.dirichlet([1, 1], n) * rng.beta(2, 12, n)[:, None]
    counts = np.floor(population[:, None] * minor).astype(int)
    area = rng.integers(5, 120, n) / 1000
    table = pd.DataFrame(
        {
            "area": area,
            "population": population,
            "density": np.round(population / area / 1000, 6),
            "black": counts[:, 0],
            "asian": counts[:, 1],
            "white": population - counts.sum(axis=1),
            "noise": np.round(rng.lognormal(2, 1, n), 3),
            "tier": rng.choice([1.5, 2.5, 3.5], n),
        }
    )
    for group in ("white", "black", "asian"):
        table[f"pct_{group}"] = np.round(100 * table[group] / population, 8)
    return table


def test_discovery_finds_ratios_and_keeps_the_total_they_share():
    table = counties()
    schema = synthgen.detect(table)
    found = {r.text() for r in schema.rules if r.kind == "product"}
    assert found == {
        "density = 0.001 * population / area",
        *(f"pct_{g} = 100 * {g} / population" for g in ("white", "black", "asian")),
    }
    model = synthgen.fit(table, model="cart", schema=schema, seed=0)
    decided = {k.rule.text(): k.writes for k in model.encoder_.keepers}
    # the largest count is the population less the others; the others are their percent of
    # the population, which the model learns with the population itself
    assert decided["population = black + asian + white"] == ("white",)
    assert decided["pct_black = 100 * black / population"] == ("black", "pct_black")
    assert decided["pct_white = 100 * white / population"] == ("pct_white",)
    assert decided["density = 0.001 * population / area"] == ("density",)
    rows = model.sample(1000, seed=1)
    kept = [k.rule for k in model.encoder_.keepers]
    assert len(kept) == 5  # the orders of the counts (black <= white) are not: white is decided
    assert not any(broken(r, rows, table, schema).any() for r in kept)


def test_discovery_lists_no_product_of_free_columns_units_or_a_schedule():
    rng = np.random.default_rng(1)
    n = 400
    kg = np.round(rng.uniform(40, 120, n), 1)
    height = np.round(rng.uniform(150, 200, n), 1)
    price = rng.choice([1.99, 2.49, 2.99], n)
    table = pd.DataFrame(
        {
            "kg": kg,
            "lb": np.round(kg * 2.20462, 2),  # one column in two units
            "cm": height,
            "inch": np.round(height / 2.54, 2),
            "x": np.round(rng.normal(10, 3, n), 4),
            "y": np.round(rng.lognormal(1, 1, n), 4),
            "price": price,
            "discount": rng.choice([0.0, 0.1, 0.3], n),
        }
    )
    table["share"] = np.round(table["discount"] / table["price"], 6)  # a schedule of 7 values
    assert not [r for r in synthgen.detect(table).rules if r.kind == "product"]


@pytest.mark.parametrize(
    "damage",
    [
        {"pivot": "region"},
        {"digits": [1, 2, 3]},
        {"digits": [True, None]},
        {"digits": [99, None]},
        {"ratio": "yes"},
    ],
)
def test_a_damaged_product_state_is_refused(real, damage, tmp_path):
    from synthgen import modelfile

    model = synthgen.fit(real, model="gaussian-copula", schema=ruled(real), seed=0)
    state = model.to_state()
    ratio = next(k for k in state["encoder"]["rules"]["keepers"] if k.get("pivot") == "part")
    ratio.update(damage)
    path = tmp_path / "bad.synthgen"
    path.write_bytes(modelfile.dumps(state))
    with pytest.raises(ModelFileError):
        synthgen.load(str(path))


@pytest.mark.parametrize("name", ["gaussian-copula", "gmm", "cart"])
def test_a_ratio_missing_where_its_divisor_is_zero(name):
    """A share missing where the whole is 0 (not judged there): where a model draws the
    share's null beside a whole that is not 0, the part takes a value on its grid and the share
    is computed from it, so the row still keeps the rule (a median part of 87.5 written as 88
    broke it)."""
    rng = np.random.default_rng(0)
    whole = rng.integers(0, 500, 600).astype(float)
    whole[:60] = 0
    part = np.floor(whole * rng.uniform(0, 1, 600))
    share = np.where(whole > 0, np.round(100 * part / np.where(whole > 0, whole, 1), 4), np.nan)
    table = pd.DataFrame({"whole": whole, "part": part, "share": share})
    schema = ruled(table, [SHARE])
    model = synthgen.fit(table, model=name, schema=schema, seed=0)
    rows = model.sample(1000, seed=1)
    assert not broken(SHARE, rows, table, schema).any()
    assert rows["share"].isna().any()  # a share is still missing where the model says so
