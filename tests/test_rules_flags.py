"""Flags that exclude one another (a region's 0/1 dummies, of which at most one is 1; an
occupation's, of which exactly one is): found by discovery as one combination per group, kept by
every model as one joint category, under conditions, fill and the model file
(synthgen.rules.categories.flag, `Combination`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.errors import ConditionError
from synthgen.rules.check import broken
from synthgen.rules.keep import rules_summary
from synthgen.rules.model import Rule
from tests.conftest import RULE_PARAMS, fit_core, refused_when_damaged, reloads_alike

MODELS = ["gaussian-copula", "gmm", "cart", pytest.param("ctgan", marks=pytest.mark.torch)]
REGIONS = ["northcen", "south", "west"]  # east: none of them
JOBS = ["prof", "cler", "serv"]  # exactly one
FOUND = [
    "(northcen, south, west) take only their real combinations",
    "(prof, cler, serv) take only their real combinations",
    "(hsgrad, college) take only their real combinations",
]


def survey(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Workers with a region's dummies (east is none), an occupation's (exactly one), a degree
    that implies a diploma, a 1/2 code, and flags one grade decides (never found together)."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["east", *REGIONS], n, p=[0.3, 0.25, 0.3, 0.15])
    job = rng.choice(JOBS, n, p=[0.4, 0.35, 0.25])
    hsgrad = (rng.random(n) < 0.7).astype(int)
    college = hsgrad * (rng.random(n) < 0.5)
    grade = rng.choice(list("ABC"), n)
    table = pd.DataFrame({r: (region == r).astype(int) for r in REGIONS})
    table = table.assign(**{j: (job == j).astype(int) for j in JOBS})
    return table.assign(
        hsgrad=hsgrad,
        college=college,
        sex=rng.choice([1, 2], n),  # a 1/2 code, independent of the rest
        grade=grade,
        top=(grade == "A").astype(int),
        bottom=(grade == "C").astype(int),
        wage=np.round(rng.lognormal(2.5 + 0.3 * college + 0.2 * (region == "west"), 0.3), 2),
    )


@pytest.fixture(scope="module")
def real(seed) -> pd.DataFrame:
    return survey(seed=seed)


@pytest.fixture(scope="module")
def fitted(real) -> dict:
    return fit_core(real)


def combinations(model) -> list:
    return [k for k in model.encoder_.keepers if type(k).__name__ == "Combination"]


def test_discovery_finds_each_group_once(real):
    found = synthgen.detect(real).rules
    assert sorted(r.text() for r in found if r.kind == "combination") == sorted(FOUND)
    # the grade's flags are its dependencies' (no combination of them); a degree's implication
    # is the combination's, not an order too; the 1/2 code excludes nothing
    texts = [r.text() for r in found]
    assert "grade determines top" in texts and "grade determines bottom" in texts
    assert not any("college" in t and "<=" in t for t in texts)
    assert not any("sex" in t for t in texts)


def test_independent_flags_and_numbers_of_more_values_are_no_group(seed):
    rng, n = np.random.default_rng(seed), 2000
    table = pd.DataFrame(
        {
            "a": rng.integers(0, 2, n),
            "b": rng.integers(0, 2, n),
            "kids": rng.choice([0, 2], n),  # two values two apart: not a flag
            "c": rng.integers(0, 2, n),
        }
    )
    table.loc[table["kids"] == 2, "c"] = 0  # c = 1 only without kids
    assert [r.text() for r in synthgen.detect(table).rules if r.kind == "combination"] == []


def test_a_pair_that_ties_two_groups_leaves_them_two(seed):
    # miners never work in the north-east: a real exclusion, but regions and industries are two
    # one-hot groups, and one joint of both would hold some 15 combinations, not 7
    rng, n = np.random.default_rng(seed), 4000
    region = rng.choice(["ne", "nc", "south", "west"], n)
    industry = rng.choice(["mining", "trade", "services", "manuf"], n)
    industry[(region == "ne") & (industry == "mining")] = "trade"
    table = pd.DataFrame({r: (region == r).astype(int) for r in ["nc", "south", "west", "ne"]})
    table = table.assign(
        **{i: (industry == i).astype(int) for i in ["mining", "trade", "services"]}
    )
    assert sorted(r.text() for r in synthgen.detect(table).rules) == [
        "(mining, trade, services) take only their real combinations",
        "(nc, south, west, ne) take only their real combinations",
    ]


def test_an_order_between_two_groups_joins_them(seed):
    # unemployed in 1975 only if unemployed in 1974: one joint of both years' groups keeps it
    rng, n = np.random.default_rng(seed), 3000
    un74 = rng.random(n) < 0.3
    un75 = un74 & (rng.random(n) < 0.6)
    table = pd.DataFrame(
        {
            "unem74": un74.astype(int),
            "em74": (~un74 & (rng.random(n) < 0.9)).astype(int),  # neither: out of the labour force
            "unem75": un75.astype(int),
            "em75": (~un75 & (rng.random(n) < 0.9)).astype(int),
        }
    )
    texts = [r.text() for r in synthgen.detect(table).rules]
    assert texts == ["(unem74, em74, unem75, em75) take only their real combinations"]
    rows = synthgen.fit(table, model="gaussian-copula", seed=seed).sample(2000, seed=1)
    assert (rows["unem75"] <= rows["unem74"]).all()
    assert (rows[["unem74", "em74"]].sum(axis=1) <= 1).all()


def test_a_label_a_number_codes_still_joins_a_combination(seed):
    # class and pclass code each other (the label decides); decks A-C are first class only
    rng, n = np.random.default_rng(seed), 1500
    pclass = rng.choice([1, 2, 3], n)
    deck = np.where(pclass == 1, rng.choice(list("ABC"), n), rng.choice(list("DEF"), n))
    table = pd.DataFrame(
        {"pclass": pclass, "class": np.array(["First", "Second", "Third"])[pclass - 1]}
    )
    table["deck"] = deck
    assert sorted(r.text() for r in synthgen.detect(table).rules) == [
        "(class, deck) take only their real combinations",
        "class determines pclass",
    ]


def panel(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """A survey over years: each year's dummy (the year decides it) and its interaction with
    schooling, `y85educ = y85 * educ`, as econometrics tables write them."""
    rng = np.random.default_rng(seed)
    year = rng.choice([1978, 1985, 1990], n)
    educ = rng.integers(6, 19, n)
    y85 = (year == 1985).astype(int)
    wage = np.round(np.exp(1 + 0.08 * educ + 0.1 * y85 + rng.normal(0, 0.3, n)), 2)
    return pd.DataFrame(
        {"year": year, "y85": y85, "educ": educ, "y85educ": y85 * educ, "wage": wage}
    )


@pytest.mark.parametrize("name", MODELS)
def test_an_interaction_term_is_found_and_kept(name, seed):
    table = panel(seed=seed)
    schema = synthgen.detect(table)
    # the orders and the dependency it implies (y85 <= y85educ <= educ) are not listed apart
    assert [r.text() for r in schema.rules] == ["year determines y85", "y85educ = y85 * educ"]
    model = synthgen.fit(table, schema=schema, model=name, seed=seed, **RULE_PARAMS[name])
    assert rules_summary(model.encoder_)["not_kept"] == []
    rows = model.sample(2000, seed=1)
    assert (rows["y85educ"] == rows["y85"] * rows["educ"]).all()
    # a drawn year takes its nearest real year's dummy (the lower one on a tie)
    year = rows["year"]
    assert (rows["y85"] == ((year > 1981.5) & (year <= 1987.5))).all()


def laws(months: int = 120) -> pd.DataFrame:
    """traffic2-like: a monthly series (`t` 1..n) with two laws that came in at months 40 and 70
    (a belt law, then a speed law: the speed law implies the belt law), each with its
    interaction term with time (`beltt = beltlaw * t`)."""
    t = np.arange(1, months + 1)
    beltlaw, spdlaw = (t >= 40).astype(int), (t >= 70).astype(int)
    accidents = np.round(
        500 + 2 * t - 60 * beltlaw + np.random.default_rng(0).normal(0, 20, months)
    )
    return pd.DataFrame(
        {
            "t": t,
            "accidents": accidents,
            "beltlaw": beltlaw,
            "spdlaw": spdlaw,
            "beltt": beltlaw * t,
            "spdt": spdlaw * t,
        }
    )


def test_terms_of_one_number_are_listed_once_each_over_it():
    """`spdt = spdlaw * beltt` holds too (the speed law implies the belt law), and so does
    `spdt is an increasing function of beltt`; listed, each was kept by solving it for `beltt`
    or not kept, and rows broke `beltt = beltlaw * t` or them (traffic2: 16.7-17.6% of rows)."""
    table = laws()
    found = [r.text() for r in synthgen.detect(table).rules]
    assert "beltt = beltlaw * t" in found and "spdt = spdlaw * t" in found
    assert not [r for r in found if "spdt" in r and "beltt" in r], found
    model = synthgen.fit(table, model="cart", seed=0)
    assert rules_summary(model.encoder_)["not_kept"] == []
    rows = model.sample(1000, seed=1)
    assert (rows["beltt"] == rows["beltlaw"] * rows["t"]).all()
    assert (rows["spdt"] == rows["spdlaw"] * rows["t"]).all()


@pytest.mark.parametrize("name", MODELS)
def test_every_model_keeps_them(fitted, real, name):
    model = fitted[name]
    assert rules_summary(model.encoder_)["not_kept"] == []
    assert len(combinations(model)) == 3
    rows = model.sample(3000, seed=1)
    for rule in model.schema_.rules:
        assert not broken(rule, rows, real, model.schema_).any(), rule.text()
    assert (rows[REGIONS].sum(axis=1) <= 1).all()
    assert (rows[JOBS].sum(axis=1) == 1).all()
    assert (rows["college"] <= rows["hsgrad"]).all()
    for column in [*REGIONS, *JOBS, "hsgrad", "college"]:
        assert set(rows[column]) == {0, 1} and rows[column].dtype.kind == "i", column
    assert set(rows["sex"]) <= {1, 2}


def test_the_joint_category_holds_only_real_combinations(fitted):
    keeper = next(k for k in combinations(fitted["cart"]) if k.writes == tuple(REGIONS))
    # east (none), then one region each; no row of two
    assert sorted(map(tuple, keeper.table.tolist())) == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 0)]


@pytest.mark.parametrize("name", ["gaussian-copula", "gmm", "cart"])
def test_conditions_on_a_flag_reach_its_group(fitted, name):
    rows = fitted[name].sample(200, seed=2, where="south=1")
    assert len(rows) == 200 and (rows["south"] == 1).all()
    assert (rows[["northcen", "west"]] == 0).all().all()
    rows = fitted[name].sample(200, seed=2, where="prof=0")
    assert (rows["prof"] == 0).all() and (rows[["cler", "serv"]].sum(axis=1) == 1).all()
    rows = fitted[name].sample(100, seed=2, where="college=1")
    assert (rows["hsgrad"] == 1).all()


def test_a_condition_no_real_row_meets_is_refused(fitted):
    with pytest.raises(ConditionError):
        fitted["cart"].sample(10, seed=0, where="college=1 and hsgrad=0")


def test_fill_keeps_given_flags(fitted, real):
    given = real[["west"]].head(80).reindex(columns=real.columns)
    rows = fitted["cart"].fill(given, seed=3)
    assert (rows["west"] == given["west"]).all()
    assert (rows[REGIONS].sum(axis=1) <= 1).all()
    assert (rows.loc[rows["west"] == 1, ["northcen", "south"]] == 0).all().all()


def test_the_model_file_keeps_them(fitted, tmp_path):
    reloads_alike(fitted["gmm"], tmp_path / "survey.synthgen")


def _regions(state: dict) -> dict:
    keepers = state["rules"]["keepers"]
    return next(k for k in keepers if k.get("members") == REGIONS)


@pytest.mark.parametrize(
    "damage",
    [
        lambda k: k.update(table=np.full_like(np.asarray(k["table"]), 2)),  # a flag has 2 codes
        lambda k: k.update(members=["northcen", "south", "wage"]),  # not a flag
        lambda k: k.update(table=np.asarray(k["table"])[:-1]),
    ],
)
def test_a_damaged_state_is_refused_cleanly(fitted, damage, tmp_path):
    refused_when_damaged(fitted["cart"], lambda e: damage(_regions(e)), tmp_path / "bad.synthgen")


def test_a_declared_combination_of_a_measure_is_not_kept_and_says_why(real):
    schema = synthgen.detect(real)
    schema.rules = [Rule("combination", ("west", "wage"))]
    model = synthgen.fit(real, schema=schema, model="gmm", seed=0)
    (dropped,) = rules_summary(model.encoder_)["not_kept"]
    assert "'wage'" in dropped["why"] and "flags" in dropped["why"]


def test_the_report_check_sees_two_regions_in_a_row(real):
    rule = Rule("combination", tuple(REGIONS))
    rows = real.head(4).copy()
    rows.loc[0, REGIONS] = [1, 1, 0]
    rows.loc[1, REGIONS] = [0, 0, 0]
    assert broken(rule, rows, real).tolist() == [True, False, False, False]
