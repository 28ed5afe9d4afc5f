"""Every model keeps every rule of its schema (synthgen.rules.keep): each kind, by each core
model, unconditionally and under where/balance/fill, through the model file; a schema without
rules changes nothing."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.errors import ConditionError, ModelFileError
from synthgen.rules.check import broken
from synthgen.rules.keep import RuleEncoder
from synthgen.rules.model import Rule
from tests.conftest import FAST_PARAMS, RULE_PARAMS, fit_core

MODELS = ["gaussian-copula", "gmm", "cart", pytest.param("ctgan", marks=pytest.mark.torch)]
PARAMS = RULE_PARAMS


def loans(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A loans-like table in which each kind of rule holds on every row."""
    rng = np.random.default_rng(seed)
    principal = rng.integers(10, 400, n) * 100
    interest = np.round(principal * rng.uniform(0.05, 0.3, n), 2)
    fees = np.where(rng.random(n) < 0.3, np.nan, np.round(rng.gamma(2, 20, n), 2))
    grade = rng.choice(list("ABCDE"), n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    sub_grade = np.char.add(grade.astype(str), rng.integers(1, 6, n).astype(str))
    issued = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    paid_off = issued + pd.to_timedelta(rng.integers(30, 900, n), unit="D")
    kind = rng.choice(["individual", "joint"], n, p=[0.8, 0.2])
    joint_income = np.where(kind == "joint", np.round(rng.lognormal(11, 0.4, n)), np.nan)
    return pd.DataFrame(
        {
            "principal": principal,
            "interest": interest,
            "fees": fees,
            "late_fee": np.where(np.isnan(fees), np.nan, np.round(rng.uniform(0, 9, n), 1)),
            "total_paid": np.round(principal + interest, 2),
            "balance": np.round(principal * rng.uniform(0, 1, n), 2),
            "grade": grade,
            "sub_grade": sub_grade,
            "term": rng.choice(["36 months", "60 months"], n),
            "issued": issued.strftime("%Y-%m-%d"),
            "paid_off": paid_off.strftime("%Y-%m-%d"),
            "approved": (issued - pd.to_timedelta(rng.integers(0, 4, n), unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "log_principal": np.round(np.log(principal), 4),
            "application": kind,
            "joint_income": joint_income,
        }
    )


RULES = [
    Rule("identity", ("principal", "interest", "total_paid"), signs=(1, 1)),
    Rule("order", ("balance", "principal")),
    Rule("order", ("issued", "paid_off")),  # loose: the model learns paid_off itself
    Rule("order", ("approved", "issued")),  # tight: the model learns the gap
    Rule("dependency", ("sub_grade", "grade")),
    Rule("combination", ("term", "sub_grade")),
    Rule("monotone", ("principal", "log_principal"), increasing=True),
    Rule("missing_together", ("fees", "late_fee")),
    Rule("missing_when", ("application", "joint_income"), values=("individual",)),
]


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return loans()


def ruled(table: pd.DataFrame, rules: list[Rule] = RULES) -> synthgen.Schema:
    schema = synthgen.detect(table)
    schema.rules = list(rules)
    return schema


def broken_shares(rows: pd.DataFrame, real: pd.DataFrame, schema, rules=RULES) -> dict[str, float]:
    return {r.text(): float(broken(r, rows, real, schema).mean()) for r in rules}


@pytest.fixture(scope="module")
def fitted(real) -> dict:
    """One fitted model per core model (ctgan only where torch is installed)."""
    return fit_core(real, ruled(real))


def test_every_rule_holds_on_every_real_row(real):
    assert max(broken_shares(real, real, ruled(real)).values()) == 0


@pytest.mark.parametrize("name", MODELS)
def test_every_model_keeps_every_kind(fitted, real, name):
    rows = fitted[name].sample(2000, seed=1)
    assert broken_shares(rows, real, ruled(real)) == {r.text(): 0.0 for r in RULES}
    assert list(rows.columns) == list(real.columns)
    assert rows["joint_income"].isna().mean() == pytest.approx(
        (rows["application"] == "individual").mean()
    )


def test_without_rules_the_rules_break(real):
    """The same model without the rules breaks most of them: keeping is not an accident of
    the table."""
    schema = ruled(real, [])
    rows = synthgen.fit(real, schema=schema, seed=0).sample(2000, seed=1)
    shares = broken_shares(rows, real, ruled(real))
    assert sum(share > 0.01 for share in shares.values()) >= 5, shares


@pytest.mark.parametrize("name", ["gaussian-copula", "gmm", "cart"])
def test_no_rules_is_the_model_it_always_was(real, name):
    """`rules: []` and a schema file from before rules both give the plain encoder, and the
    same rows (that these are main's rows, byte for byte, the fingerprint checks)."""
    empty = synthgen.fit(real, model=name, schema=ruled(real, []), seed=0)
    old = ruled(real, []).to_dict()
    del old["rules"]
    before = synthgen.fit(real, model=name, schema=synthgen.Schema.from_dict(old), seed=0)
    assert type(empty.encoder_) is type(before.encoder_) is not RuleEncoder
    pd.testing.assert_frame_equal(empty.sample(500, seed=3), before.sample(500, seed=3))
    assert empty.to_state()["encoder"] == before.to_state()["encoder"]


def test_types_and_formats_are_the_plain_models(fitted, real):
    plain = synthgen.fit(real, schema=ruled(real, []), seed=0).sample(300, seed=1)
    rows = fitted["gaussian-copula"].sample(300, seed=1)
    assert rows.dtypes.to_dict() == plain.dtypes.to_dict()
    assert rows["issued"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    assert rows["paid_off"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    assert (rows["log_principal"] == rows["log_principal"].round(4)).all()
    fast = fitted["gaussian-copula"].sample_rows(0, 300, seed=1, categorical=True)
    assert isinstance(fast["grade"].dtype, pd.CategoricalDtype)
    assert (fast["grade"].astype(object) == rows["grade"]).all()


def test_a_sample_is_the_same_however_it_is_chunked(fitted):
    model = fitted["gmm"]
    whole = model.sample(25_000, seed=4)
    parts = pd.concat(list(model.iter_sample(25_000, seed=4, chunk_rows=10_000)), ignore_index=True)
    pd.testing.assert_frame_equal(whole, parts)
    pd.testing.assert_frame_equal(
        model.sample_rows(10_000, 12_000, seed=4), whole[10_000:12_000].reset_index(drop=True)
    )


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(
    "where, column, test",
    [
        ("grade=B", "grade", lambda s: (s == "B").all()),  # a dependency's target
        ("term=60 months", "term", lambda s: (s == "60 months").all()),  # a combination member
        ("total_paid>=30000", "total_paid", lambda s: (s >= 30000).all()),  # a sum
        ("total_paid=20000", "total_paid", lambda s: (s == 20000).all()),  # a sum's point
        ("paid_off>=2021-06-01", "paid_off", lambda s: (s >= "2021-06-01").all()),  # an order
        ("log_principal<=8", "log_principal", lambda s: (s <= 8).all()),  # a monotone value
        ("late_fee>=5", "late_fee", lambda s: (s >= 5).all()),  # missing together
        ("joint_income>=80000", "joint_income", lambda s: (s >= 80000).all()),  # missing when
    ],
)
def test_conditions_on_decided_columns_keep_the_rules(fitted, real, name, where, column, test):
    rows = fitted[name].sample(300, seed=2, where=where)
    assert len(rows) == 300 and test(rows[column])
    assert max(broken_shares(rows, real, ruled(real)).values()) == 0


def test_cart_suggests_an_order_of_the_users_columns_and_takes_it(fitted, real):
    """A slow condition's warning says how to fit so that it is drawn first. It named the
    column modelled for a rule (`joint_income\x1fcomplete`), which no shell takes and `order`
    refused; now the user's column, which `order` takes for the columns modelled for it."""
    import re

    def order_said(model) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = model.sample(300, seed=2, where="joint_income>=80000")
        assert (rows["joint_income"] >= 80000).all()
        return [str(w.message) for w in caught if "order=" in str(w.message)]

    said = order_said(fitted["cart"])
    assert len(said) == 1 and "\x1f" not in said[0], said
    order = re.search(r"order='([^']*)'", said[0]).group(1).split(",")
    assert set(order) <= set(real.columns)
    model = synthgen.fit(real, model="cart", schema=ruled(real), seed=0, order=order)
    assert order_said(model) == []


@pytest.mark.parametrize("name", ["gaussian-copula", "cart"])
def test_balance_on_a_decided_column_keeps_the_rules(fitted, real, name):
    rows = fitted[name].sample(500, seed=3, balance="grade", where="principal>=5000")
    assert rows["grade"].value_counts().to_dict() == {g: 100 for g in "ABCDE"}
    assert (rows["principal"] >= 5000).all()
    assert max(broken_shares(rows, real, ruled(real)).values()) == 0


def test_an_impossible_condition_through_a_rule_is_refused(fitted):
    with pytest.raises(ConditionError):
        fitted["gaussian-copula"].sample(10, seed=0, where=["grade=A", "sub_grade=B2"])


@pytest.mark.parametrize("name", ["gaussian-copula", "gmm", "cart"])
def test_fill_keeps_given_cells_and_the_rules(fitted, real, name):
    given = real.head(60).copy()
    given.loc[::2, "principal"] = None
    given.loc[1::3, ["grade", "term"]] = None
    given.loc[::4, "sub_grade"] = None
    given.loc[::5, ["interest", "issued"]] = None
    given.loc[1::2, "total_paid"] = None
    filled = fitted[name].fill(given, seed=5)
    for col in given.columns:
        has = given[col].notna()
        a, b = filled.loc[has, col], given.loc[has, col]
        numeric = pd.api.types.is_numeric_dtype(b.dtype)
        assert (a.astype(float) == b).all() if numeric else (a == b).all(), col
    assert max(broken_shares(filled, real, ruled(real)).values()) == 0


def test_fill_solves_the_sources_of_given_decided_cells(fitted, real):
    given = pd.DataFrame(
        {
            "total_paid": [25_000.5, None, None, None],
            "grade": [None, "D", None, None],
            "log_principal": [None, None, 9.2103, None],
            "paid_off": [None, None, None, "2019-03-01"],
        }
    )
    filled = fitted["gaussian-copula"].fill(given, seed=6)
    assert filled.loc[0, "total_paid"] == 25_000.5
    assert filled.loc[0, "principal"] + filled.loc[0, "interest"] == pytest.approx(25_000.5)
    assert filled.loc[1, "sub_grade"].startswith("D")
    assert filled.loc[2, "principal"] == 10_000
    assert filled.loc[3, "issued"] <= "2019-03-01"
    assert max(broken_shares(filled, real, ruled(real)).values()) == 0


def test_the_model_file_keeps_the_rules(fitted, real, tmp_path):
    path = tmp_path / "loans.synthgen"
    fitted["gmm"].save(str(path))
    loaded = synthgen.load(str(path))
    pd.testing.assert_frame_equal(loaded.sample(400, seed=7), fitted["gmm"].sample(400, seed=7))
    pd.testing.assert_frame_equal(
        loaded.sample(50, seed=7, where="grade=C"),
        fitted["gmm"].sample(50, seed=7, where="grade=C"),
    )


def _keeper(state: dict, key: str) -> dict:
    """The saved state of the first kept rule that has `key`."""
    return next(k for k in state["rules"]["keepers"] if key in k)


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s["rules"]["keepers"][0].update(rule=99),
        lambda s: _keeper(s, "keys").update(values=np.full(len(_keeper(s, "keys")["keys"]), -5)),
        lambda s: _keeper(s, "keys").update(keys=_keeper(s, "keys")["keys"][::-1]),
        lambda s: _keeper(s, "table").update(table=np.full((2, 2), 7)),
        lambda s: _keeper(s, "xs").update(xs=np.array([3.0, 1.0])),
        lambda s: _keeper(s, "leader").update(leader="principal"),
        lambda s: s["rules"].update(inner_columns=["nope"]),
        lambda s: s["rules"]["modelled"][0].update(kind="categorical"),
        lambda s: s["rules"].pop("keepers"),
    ],
)
def test_a_damaged_rules_state_is_refused_cleanly(fitted, damage, tmp_path):
    from synthgen import modelfile

    state = fitted["gaussian-copula"].to_state()
    damage(state["encoder"])
    path = tmp_path / "bad.synthgen"
    path.write_bytes(modelfile.dumps(state))
    with pytest.raises(ModelFileError):
        synthgen.load(str(path))


def test_rules_that_clash_or_close_a_cycle_are_not_kept(real):
    rules = [
        Rule("dependency", ("sub_grade", "grade")),
        Rule("dependency", ("term", "grade")),  # grade is already decided
        Rule("monotone", ("principal", "log_principal"), increasing=True),
        Rule("monotone", ("log_principal", "principal"), increasing=True),  # a cycle
        Rule("identity", ("principal", "interest", "total_paid"), signs=(1, 1)),
    ]
    model = synthgen.fit(real, schema=ruled(real, rules), seed=0)
    summary = model.encoder_.summary()
    assert summary["kept"] == [rules[i].text() for i in (0, 2, 4)]
    assert [d["rule"] for d in summary["not_kept"]] == [rules[1].text(), rules[3].text()]
    assert "already decided" in summary["not_kept"][0]["why"]
    assert "cycle" in summary["not_kept"][1]["why"]
    kept = [rules[i] for i in (0, 2, 4)]
    assert max(broken_shares(model.sample(1000, seed=1), real, ruled(real), kept).values()) == 0


def test_a_taken_column_turns_a_rule_round(real):
    """Where another rule decides an order's or a sum's target, the rule decides a source
    instead: two orders onto principal, which a monotone rule decides, all hold."""
    rules = [
        Rule("monotone", ("log_principal", "principal"), increasing=True),
        Rule("order", ("interest", "principal")),
        Rule("order", ("balance", "principal")),
        Rule("identity", ("principal", "interest", "total_paid"), signs=(1, 1)),
    ]
    model = synthgen.fit(real, schema=ruled(real, rules), seed=0)
    decided = {k.rule.text(): k.writes[0] for k in model.encoder_.keepers}
    assert decided == {
        rules[0].text(): "principal",
        rules[1].text(): "interest",
        rules[2].text(): "balance",
        rules[3].text(): "total_paid",
    }
    rows = model.sample(2000, seed=1)
    assert max(broken_shares(rows, real, ruled(real), rules).values()) == 0
    asked = model.sample(200, seed=2, where=["balance>=20000", "total_paid<=30000"])
    assert (asked["balance"] >= 20000).all() and (asked["total_paid"] <= 30000).all()
    assert max(broken_shares(asked, real, ruled(real), rules).values()) == 0


def hourly(seed: int, n: int = 1200) -> pd.DataFrame:
    """linearmodels' fringe in small: yearly benefits the sum of their parts, hourly figures
    the yearly ones over the hours, and the benefits' ratio to earnings."""
    rng = np.random.default_rng(seed)
    hours = rng.integers(1000, 2600, n).astype(float)
    earnings = np.round(hours * rng.uniform(8, 40, n), 0)
    vacation, insurance = np.round(rng.gamma(3, 300, n), 0), np.round(rng.gamma(2, 500, n), 0)
    benefits = vacation + insurance
    hourly_earnings, hourly_benefits = earnings / hours, benefits / hours
    return pd.DataFrame(
        {
            "hours": hours,
            "earnings": earnings,
            "vacation": vacation,
            "insurance": insurance,
            "benefits": benefits,
            "hourly_earnings": hourly_earnings,
            "ratio": hourly_benefits / hourly_earnings,
            "hourly_benefits": hourly_benefits,
        }
    )


@pytest.mark.parametrize("name", ["gmm", "cart"])
def test_an_equality_moves_over_to_make_room_for_another(name, seed):
    """`hourly_benefits = hourly_earnings * ratio` comes first and would decide
    hourly_benefits, leaving `hourly_benefits = benefits / hours` no column: the sum decides
    benefits, and hours would close a cycle through hourly_earnings. The first decides ratio
    instead, and all four hold (before: the ratio was broken in 93% of fringe's rows)."""
    real = hourly(seed)
    rules = [
        Rule("identity", ("vacation", "insurance", "benefits"), signs=(1, 1)),
        Rule("product", ("earnings", "hours", "hourly_earnings"), signs=(1, -1), factor=1.0),
        Rule("product", ("hourly_earnings", "ratio", "hourly_benefits"), signs=(1, 1), factor=1.0),
        Rule("product", ("benefits", "hours", "hourly_benefits"), signs=(1, -1), factor=1.0),
    ]
    schema = ruled(real, rules)
    model = synthgen.fit(real, model=name, schema=schema, seed=seed, **PARAMS[name])
    assert model.encoder_.summary()["not_kept"] == []
    decided = {k.rule.text(): k.writes[0] for k in model.encoder_.keepers}
    assert decided[rules[2].text()] == "ratio"
    assert decided[rules[3].text()] == "hourly_benefits"
    shares = broken_shares(model.sample(1000, seed=seed + 1), real, schema, rules)
    assert max(shares.values()) == 0


def test_orders_onto_one_target_and_a_combination_through_a_dependency(real):
    """Orders onto one column join (it is the largest of their sums + a gap); a combination
    whose member a dependency decides is kept through the dependency's source."""
    table = real.assign(cap=np.maximum(real["interest"], real["balance"]) + 5)
    rules = [
        Rule("order", ("interest", "cap")),
        Rule("order", ("balance", "cap")),
        Rule("dependency", ("sub_grade", "grade")),
        Rule("combination", ("grade", "application")),
    ]
    model = synthgen.fit(table, schema=ruled(table, rules), seed=0)
    assert model.encoder_.summary()["kept"] == [r.text() for r in rules]
    assert "cap\x1fgap" in model.encoder_.schema.names
    rows = model.sample(2000, seed=1)
    assert max(broken_shares(rows, table, ruled(table), rules).values()) == 0
    where = model.sample(100, seed=2, where="cap<=3000")
    assert (where["cap"] <= 3000).all()
    assert max(broken_shares(where, table, ruled(table), rules).values()) == 0


def test_overlapping_combinations_and_missing_together_inside_one(real):
    """Combinations that share a member become one joint category of all their members; a
    missing-together rule among a combination's members is kept by it (missing is a value)."""
    table = real.assign(
        fee_kind=np.where(real["fees"].isna(), None, np.where(real["grade"] < "C", "low", "high")),
        fee_band=np.where(real["fees"].isna(), None, np.where(real["grade"] < "C", "L", "H")),
    )
    rules = [
        Rule("combination", ("grade", "fee_kind")),
        Rule("combination", ("fee_kind", "term")),
        Rule("missing_together", ("fee_kind", "fee_band")),
        Rule("combination", ("fee_band", "fee_kind")),
    ]
    model = synthgen.fit(table, schema=ruled(table, rules), seed=0)
    assert model.encoder_.summary() == {"kept": [r.text() for r in rules], "not_kept": []}
    joints = [k.members for k in model.encoder_.keepers]
    assert joints == [("grade", "fee_kind", "term", "fee_band")]
    rows = model.sample(2000, seed=1)
    assert max(broken_shares(rows, table, ruled(table), rules).values()) == 0


def test_a_small_group_of_a_dependency_keeps_its_category(real):
    """Three rows without a sub-grade have no grade: a group smaller than the rare threshold
    is still mapped (its target is a category code, nothing rare), so a model that draws a
    missing sub-grade writes no grade, as the real rows do."""
    table = real.copy()
    table.loc[:2, ["sub_grade", "grade"]] = None
    rules = [Rule("dependency", ("sub_grade", "grade"))]
    model = synthgen.fit(table, schema=ruled(table, rules), seed=0)
    (k,) = model.encoder_.keepers
    source, target = model.encoder_.u.at["sub_grade"], model.encoder_.u.at["grade"]
    assert k.values[list(k.keys).index(source.null_code)] == target.null_code


def test_rules_compose(real):
    """A column one rule computes is the source of the next: total_paid from principal and
    interest, then an order on total_paid."""
    table = real.assign(refund=np.round(real["total_paid"] + 10, 2))
    rules = [
        Rule("order", ("total_paid", "refund")),
        Rule("identity", ("principal", "interest", "total_paid"), signs=(1, 1)),
    ]
    model = synthgen.fit(table, schema=ruled(table, rules), seed=0)
    assert [k.rule for k in model.encoder_.keepers] == rules[::-1]
    rows = model.sample(1000, seed=1)
    assert max(broken_shares(rows, table, ruled(table), rules).values()) == 0


def test_a_by_column_is_never_decided(real):
    model = synthgen.fit(real, schema=ruled(real), seed=0, by="grade")
    assert "grade" in model.encoder_.kept
    why = {d["rule"]: d["why"] for d in model.encoder_.summary()["not_kept"]}
    assert "--by" in why["sub_grade determines grade"]
    rows = model.sample(500, seed=1, where="grade=E")
    assert (rows["grade"] == "E").all()


def test_a_stream_fit_keeps_the_rules(real):
    from synthgen.stream import reservoir_sample

    chunks = (real.iloc[i : i + 300] for i in range(0, len(real), 300))
    sample, stats = reservoir_sample(chunks, 800, seed=0)
    model = synthgen.models.create("gaussian-copula").fit(sample, ruled(real), seed=0, stream=stats)
    rows = model.sample(1000, seed=1)
    # a monotone curve knows the pairs of the rows it saw: the sample's
    shares = broken_shares(rows, sample, ruled(real))
    assert shares == {r.text(): 0.0 for r in RULES}
    assert rows["grade"].value_counts(normalize=True)["E"] == pytest.approx(0.1, abs=0.03)


def test_drawn_rows_that_break_the_rules_come_back_keeping_them(real):
    """A DP model's way (synthgen.models.dp): the rules' state learned from rows a model drew,
    which break the rules (here each column shuffled on its own), on columns' states given;
    other such rows encoded (`encode_rows`) and decoded keep every rule, missing together
    inside a combination too."""
    from synthgen.columns import TableEncoder

    lapsed = real["fees"].isna()
    table = real.assign(
        channel=np.where(lapsed, None, real["grade"].str.lower()),
        agent=np.where(lapsed, None, "t" + real["term"].str[:2]),
    )
    rules = [
        *RULES,
        Rule("combination", ("channel", "agent")),
        Rule("missing_together", ("channel", "agent")),
    ]
    schema = ruled(table, rules)

    def drawn(seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        return pd.DataFrame({c: rng.permutation(table[c].to_numpy()) for c in table.columns})

    rng = np.random.default_rng(0)
    given = TableEncoder(schema).fit(drawn(1), rng)
    enc = RuleEncoder(schema, seed=0).fit(drawn(1), rng, given=given)
    assert enc.summary()["not_kept"] == []
    rows = enc.decode(enc.encode_rows(drawn(2), rng), seed=0)
    together = "channel and agent are missing together"
    assert broken_shares(drawn(2), drawn(2), schema, rules)[together] > 0.1
    assert broken_shares(rows, rows, schema, rules) == {r.text(): 0.0 for r in rules}
    # the joint's combinations are the drawn ones that keep missing together
    fitted_on = drawn(1)
    keeping = fitted_on[fitted_on["channel"].isna() == fitted_on["agent"].isna()]
    assert not broken(rules[-2], rows, keeping, schema).any()
    one = enc.decode(enc.encode_rows(drawn(3).iloc[:1], rng), seed=0)  # nothing to draw from
    assert list(one.columns) == list(table.columns) and len(one) == 1


def test_inspect_lists_the_rules_kept(fitted, tmp_path):
    from synthgen.cli.inspect import summary

    path = tmp_path / "m.synthgen"
    fitted["cart"].save(str(path))
    info = summary(str(path))
    assert info["rules"]["kept"] == [r.text() for r in RULES]
    json.dumps(info, default=str)


def test_rules_add_columns_only_inside_the_model(fitted, real):
    enc = fitted["cart"].encoder_
    assert {"grade", "total_paid", "log_principal"}.isdisjoint(enc.schema.names)
    assert "issued\x1fgap" in enc.schema.names and "paid_off\x1fraw" in enc.schema.names
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fitted["cart"].encoder_.suppressed() == {}


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    from synthgen.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_a_rule_declared_in_the_schema_file_is_kept_and_a_removed_one_is_not(
    real, tmp_path, capsys
):
    """`synthgen schema` writes the rules it finds; the user removes one and declares one of
    their own ((term, sub_grade) take their real combinations: true, but all 10 x 5 of them
    occur, so not found): the model keeps exactly the file's rules."""
    data = tmp_path / "loans.csv"
    real.to_csv(data, index=False)
    code, text, err = run_cli(["schema", str(data)], capsys)
    assert code == 0, err
    schema = json.loads(text)
    found = [Rule.from_dict(r) for r in schema["rules"]]
    identity = next(r for r in found if r.kind == "identity" and r.derived == "total_paid")
    schema["rules"] = [r for r in schema["rules"] if Rule.from_dict(r) != identity]
    declared = {"kind": "combination", "columns": ["term", "sub_grade"]}
    assert Rule.from_dict(declared) not in found
    schema["rules"].append(declared)
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    model = str(tmp_path / "m.synthgen")
    code, _, err = run_cli(["fit", str(data), "--schema", str(path), "-o", model, "-q"], capsys)
    assert code == 0, err
    out = str(tmp_path / "rows.csv")
    code, _, err = run_cli(["sample", model, "-n", "2000", "-o", out, "--seed", "1"], capsys)
    assert code == 0, err
    rows = synthgen.read_table(out)
    kept = synthgen.Schema.from_dict(schema)
    for rule in kept.rules:
        assert not broken(rule, rows, real, kept).any(), rule.text()
    assert broken(identity, rows, real, kept).mean() > 0.5  # no longer enforced
    code, text, _ = run_cli(["inspect", model, "--json"], capsys)
    assert Rule.from_dict(declared).text() in json.loads(text)["rules"]["kept"]


@pytest.mark.sdv
def test_sdv_peers_keep_the_rules(real):
    """SDV's synthesizers learn the same modelled table through the base class."""
    pytest.importorskip("sdv")
    model = synthgen.fit(real, model="sdv-gaussian-copula", schema=ruled(real), seed=0)
    rows = model.sample(1000, seed=1)
    assert broken_shares(rows, real, ruled(real)) == {r.text(): 0.0 for r in RULES}
    assert list(rows.columns) == list(real.columns)


def test_a_combination_every_member_of_which_one_column_decides_loads_back(tmp_path):
    """plotnine's mpg: the car model decides its maker and its drive, and (maker, drive) take
    only their real combinations. Both members are looked up from the model, so the combination
    holds through those two rules; kept as a combination of one column, its model file was
    refused on loading ("a combination's members repeat")."""
    rng = np.random.default_rng(0)
    maker = np.array(["audi", "ford", "jeep", "vw"])[np.arange(20) % 4]
    drive = np.array(["f", "4", "4", "f", "r"])[np.arange(20) % 5]
    car = rng.integers(0, 20, 600)
    real = pd.DataFrame({"model": [f"m{i}" for i in car], "maker": maker[car], "drive": drive[car]})
    real["hwy"] = rng.normal(25, 4, 600).round()
    schema = synthgen.detect(real)
    schema.rules = [
        Rule("dependency", ("model", "maker")),
        Rule("dependency", ("model", "drive")),
        Rule("combination", ("maker", "drive")),
    ]
    model = synthgen.fit(real, schema=schema, model="cart", seed=0)
    path = str(tmp_path / "m.synthgen")
    model.save(path)
    loaded = synthgen.load(path)
    rows = loaded.sample(500, seed=1)
    assert rows.equals(model.sample(500, seed=1))
    pairs = set(zip(real["maker"], real["drive"]))
    assert all(p in pairs for p in zip(rows["maker"], rows["drive"]))
    summary = loaded.encoder_.summary()
    (why,) = [e["why"] for e in summary["not_kept"]]
    assert "all decided from 'model'" in why


@pytest.mark.parametrize("model_name", ["cart", "gaussian-copula"])
def test_dates_missing_with_a_category_are_learned_completed_as_dates(model_name):
    """A date column of pandas datetimes (no text format), missing exactly where a category is:
    the model learns it completed, a null filled with a date it holds. The filled column came
    back as objects, which a date column without a format could not read (found by the
    property tests: fit refused the table)."""
    rng = np.random.default_rng(0)
    group = np.where(rng.random(300) < 0.4, None, rng.choice(["a", "b"], 300))
    day = pd.Timestamp("1900-01-01") + pd.to_timedelta(rng.integers(0, 30, 300), unit="D")
    real = pd.DataFrame(
        {"group": pd.Series(group, dtype=object), "day": pd.Series(day).where(group != None)}  # noqa: E711
    )
    assert any(r.kind == "missing_together" for r in synthgen.detect(real).rules)
    rows = synthgen.fit(real, model=model_name, seed=0).sample(400, seed=1)
    assert (rows["group"].isna() == rows["day"].isna()).all()
    assert rows["day"].dropna().between(real["day"].min(), real["day"].max()).all()


def benefits(seed: int, n: int = 600) -> pd.DataFrame:
    """linearmodels' fringe in small: a total a product decides (rate x hours), a benefit
    below it (`sick <= total`, decided as its lower side), and a share of pay below another
    benefit (`vserat <= vac`)."""
    rng = np.random.default_rng(seed)
    hours = rng.integers(1000, 3000, n).astype(float)
    rate = rng.uniform(0.2, 2, n).round(2)
    total = (rate * hours).round(2)
    vac = (total * rng.uniform(0.2, 0.5, n)).round(2)
    pay = rng.uniform(5000, 50000, n).round(0)
    return pd.DataFrame(
        {
            "hours": hours,
            "rate": rate,
            "total": total,
            "sick": (total * rng.uniform(0, 0.3, n)).round(2),
            "vac": vac,
            "pay": pay,
            "vserat": (vac / pay).round(5),
        }
    )


@pytest.mark.parametrize("name", ["cart", "gmm", "gaussian-copula"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_lower_side_an_order_decides_stays_in_its_range(name, seed):
    """An order whose target another rule decides writes its lower side. As the target less a
    gap drawn for another row, sick leave went down to -2,304 (every real value is at least 0)
    and its KS distance was 0.105-0.21; it is now learned as it is and reflected below the
    room the total leaves (KS 0.014-0.05 on seeds 0-2, every value in range)."""
    from scipy.stats import ks_2samp

    real = benefits(seed)
    fitted = synthgen.fit(real, model=name, seed=seed, **FAST_PARAMS.get(name, {}))
    writers = {k.rule.text(): k.writes for k in fitted.encoder_.keepers}
    assert writers.get("sick <= total") == ("sick",)  # the case arises
    synth = fitted.sample(1000, seed=seed).astype(float)
    assert (synth["sick"] >= 0).all() and (synth["sick"] <= synth["total"]).all()
    assert ks_2samp(synth["sick"], real["sick"]).statistic < 0.08


@pytest.mark.parametrize("name", ["cart", "gmm", "gaussian-copula"])
def test_a_target_an_order_decides_stays_above_its_real_minimum(name):
    """`start <= end`, half the starts at their minimum and every end later than it: a gap of
    0 drawn on a start at its minimum wrote an end before every real one (found by the
    property test on cart: 1900-01-01 where the real ends begin on 1900-01-02)."""
    rng = np.random.default_rng(0)
    n = 400
    start = np.where(rng.random(n) < 0.5, 0, rng.integers(0, 3000, n))
    end = start + np.where(start == 0, rng.integers(1, 20, n), rng.integers(0, 30, n))
    day = pd.Timestamp("1900-01-01")
    real = pd.DataFrame(
        {"start": day + pd.to_timedelta(start, "D"), "end": day + pd.to_timedelta(end, "D")}
    )
    fitted = synthgen.fit(real, model=name, seed=0)
    assert [r.text() for r in fitted.schema_.rules] == ["start <= end"]
    synth = fitted.sample(3000, seed=1)
    assert synth["end"].min() >= real["end"].min()
    assert (synth["start"] <= synth["end"]).all()


def schooled(n: int, seed: int) -> pd.DataFrame:
    """engin-like: `male` first, then schooling, of which graduate (`grad`, looked up from
    `educ`) are men only: `grad <= male` decides `male` from a gap, and `grad` comes from a
    later column. Women and the men who did not graduate have about the same mean schooling,
    different spreads (most women at 12 years, most of those men at 15)."""
    rng = np.random.default_rng(seed)
    male = (rng.random(n) < 0.5).astype(int)
    men = rng.choice([8, 12, 15, 16, 17, 19], n, p=[0.05, 0.2, 0.35, 0.15, 0.05, 0.2])
    women = rng.choice([8, 12, 15, 16], n, p=[0.1, 0.65, 0.15, 0.1])
    educ = np.where(male == 1, men, women)
    exper = rng.integers(0, 30, n)
    wage = np.round(1000 + 100 * educ + 30 * exper + rng.normal(0, 200, n))
    return pd.DataFrame(
        {"male": male, "educ": educ, "exper": exper, "grad": (educ >= 17).astype(int), "wage": wage}
    )


@pytest.mark.trained
def test_an_order_gap_is_drawn_after_what_it_lies_above(seed):
    """An order's gap is modelled behind the columns that a source another rule decides (`grad`,
    looked up from `educ`) is computed from, so a model that draws each column given those
    before it draws the gap given them. At `male`'s
    own place (first), cart drew `educ` given the gap alone, whose two groups have about the
    same mean schooling: its tree did not split, and men's and women's schooling came out
    alike (the real gap between their shares at 12 years or less kept at 0.24-0.37 on seeds
    0-3; behind `educ`, at 0.99-1.06 on seeds 0-9; engin: 35% of synthetic men at 12 years against 18%)."""
    real = schooled(400, seed)
    fitted = synthgen.fit(real, model="cart", seed=seed)
    assert sorted(r.text() for r in fitted.schema_.rules) == [
        "educ determines grad",
        "grad <= male",
    ]
    names = list(fitted.encoder_.schema.names)
    assert names.index("male\x1fgap") > names.index("educ")
    synth = fitted.sample(4000, seed=seed + 1)
    assert (synth["grad"] <= synth["male"]).all()

    def low(table: pd.DataFrame) -> float:
        share = table.groupby("male")["educ"].apply(lambda e: (e <= 12).mean())
        return float(share[0] - share[1])

    assert low(synth) > 0.7 * low(real)


@pytest.mark.parametrize("later", [False, True])
def test_an_order_whose_sources_the_model_draws_keeps_its_place(later):
    """Nothing moves where the sources are modelled columns (`start <= end`: the gap at `end`'s
    place), whether they come before it or after it (then drawn given the gap)."""
    rng = np.random.default_rng(0)
    start = rng.integers(0, 1000, 300)
    real = pd.DataFrame({"start": start, "x": rng.normal(size=300)})
    real["end"] = start + rng.integers(0, 5, 300)
    if later:
        real = real[["end", "x", "start"]]
    encoder = RuleEncoder(synthgen.detect(real)).fit(real, np.random.default_rng(0))
    expected = ["end\x1fgap", "x", "start"] if later else ["start", "x", "end\x1fgap"]
    assert list(encoder.schema.names) == expected


def test_a_gap_over_a_source_a_loose_order_decides_keeps_its_place():
    """A source decided by a loose order is learned as it is (only reflected): the model draws
    it, so a gap above it keeps its place (ISLP's College: `Accept <= Apps` over `Enroll <=
    Accept`; moved behind `Enroll`, cart's DCR share read 0.535 -> 0.561)."""
    rng = np.random.default_rng(0)
    enroll = rng.integers(100, 3000, 400)
    accept = enroll + rng.integers(200, 6000, 400)
    real = pd.DataFrame({"apps": accept + rng.integers(0, 5, 400), "accept": accept})
    real["enroll"] = enroll
    schema = synthgen.detect(real)
    schema.rules = [Rule("order", ("accept", "apps")), Rule("order", ("enroll", "accept"))]
    encoder = RuleEncoder(schema).fit(real, np.random.default_rng(0))
    assert list(encoder.schema.names) == ["apps\x1fgap", "accept\x1fraw", "enroll"]


def test_a_loose_order_that_decides_its_source_loads_back(tmp_path):
    """A loose order whose target another rule decides learns its source as it is (`clhrsemp
    <= lhrsemp`, lhrsemp a curve of hrsemp: linearmodels' jobtraining). Its state did not say
    which column it decides, so loading took the target and refused the file (every model's:
    save reads its file back and refused to write it, exit 4)."""
    from tests.conftest import reloads_alike

    rng = np.random.default_rng(0)
    hours = rng.uniform(1, 60, 400).round(1)
    real = pd.DataFrame({"hrsemp": hours, "lhrsemp": np.log(hours)})
    real["clhrsemp"] = real["lhrsemp"] - rng.uniform(0, 3, 400)
    schema = synthgen.detect(real)
    schema.rules = [
        Rule("monotone", ("hrsemp", "lhrsemp"), increasing=True),
        Rule("order", ("clhrsemp", "lhrsemp")),
    ]
    for name, model in fit_core(real, schema).items():
        order = next(k for k in model.encoder_.keepers if k.rule.kind == "order")
        assert order.loose and order.writes == ("clhrsemp",), name
        reloads_alike(model, tmp_path / f"{name}.synthgen")
