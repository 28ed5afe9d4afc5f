"""The column kinds' one interface (`synthgen.columns.base.Kind`), checked for every registered kind:
detection, fit -> encode -> decode, the codes a condition maps to, typed and compared values.

Every kind in `KINDS` needs examples in `EXAMPLES` (a test says so when one has none), so a new
kind is tested the day it is registered; the last test registers a kind of its own and runs it
through fit, sampling with a condition, fill and the report, untouched by any other module.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.columns import KINDS, TableEncoder
from synthgen.columns import numeric as numeric_kind
from synthgen.columns.base import (
    Evidence,
    InRules,
    Kind,
    RowRandom,
    as_keys,
    has_nulls,
    null_mask,
)
from synthgen.conditions import targets
from synthgen.rules.discover import discover
from synthgen.schema import Schema, detect, detect_column

N = 40
_DAYS = pd.date_range("2019-12-30", periods=N, freq="7D")

# Columns each kind claims, as a CSV reads them (text, None for null) and typed, with nulls.
EXAMPLES: dict[str, list[pd.Series]] = {
    "boolean": [
        pd.Series((["yes", "no", "no", None] * N)[:N], name="smoker"),
        pd.Series(pd.array(([True, False, None] * N)[:N], dtype="boolean"), name="flag"),
    ],
    "constant": [pd.Series((["EUR", None] * N)[:N], name="currency")],
    "datetime": [
        pd.Series([d.strftime("%d/%m/%Y") for d in _DAYS][:-1] + [None], name="when"),
        pd.Series(_DAYS.tz_localize("UTC").where(np.arange(N) % 5 > 0), name="stamp"),
    ],
    "id": [
        pd.Series([str(1000 + i) for i in range(N - 1)] + [None], name="user_id"),
        pd.Series([f"AB-{i * 37 % 1000:03d}" for i in range(N)], name="ticket"),
    ],
    "numeric": [
        pd.Series((["1.5", "2.25", "-3", None, "12"] * N)[:N], name="weight"),
        pd.Series(pd.array(([3, 1, 4, None, 5, 9] * N)[:N], dtype="Int64"), name="count"),
    ],
    "categorical": [
        pd.Series((["red", "green", "blue", None, "red"] * N)[:N], name="colour"),
        pd.Series(pd.Categorical((["lo", "hi", "hi"] * N)[:N]), name="level"),
        pd.Series((["a", "b"] * N)[: N - 1] + ["once"], name="grade"),
    ],
    "text": [pd.Series([f"note {i} about a blue dog" for i in range(N - 1)] + [None], name="note")],
}

CASES = [
    pytest.param(name, i, id=f"{name}-{i}")
    for name in KINDS
    for i in range(len(EXAMPLES.get(name, [])))
]


def _fitted(name: str, i: int, rare_threshold: int = 0) -> tuple[Kind, pd.Series, TableEncoder]:
    values = EXAMPLES[name][i]
    col = detect_column(values)
    encoder = TableEncoder(Schema([col]), rare_threshold=rare_threshold)
    return KINDS[col.kind], values, encoder.fit(values.to_frame(), np.random.default_rng(0))


def _same(a, b) -> bool:
    return (
        pd.Series(a, dtype=object)
        .reset_index(drop=True)
        .equals(pd.Series(b, dtype=object).reset_index(drop=True))
    )


def test_every_registered_kind_has_examples():
    assert set(KINDS) == set(EXAMPLES)
    assert all(kind.name == name for name, kind in KINDS.items())


@pytest.mark.parametrize("name,i", CASES)
def test_detection_gives_the_kind_of_its_examples(name, i):
    assert detect_column(EXAMPLES[name][i]).kind == name


@pytest.mark.parametrize("name,i", CASES)
def test_encode_gives_one_array_per_part_and_decode_keeps_values_and_nulls(name, i):
    kind, values, encoder = _fitted(name, i)
    state = encoder.states[0]
    json.dumps(state)  # the model file holds it as JSON
    col = encoder.schema.columns[0]
    arrays = kind.encode(values, col, state, np.random.default_rng(1))
    parts = kind.parts(col.name, state)
    assert len(arrays) == len(parts)
    for part, array in zip(parts, arrays):
        assert len(array) == N
        if part.continuous:
            assert np.isfinite(array).all()
        else:
            assert ((array >= 0) & (array < part.cardinality)).all()
    decoded = kind.decode(arrays, col, state, RowRandom(0, 0, N))
    assert (null_mask(decoded) == null_mask(values)).all()
    shown = kind.decode(arrays, col, state, RowRandom(0, 0, N), as_category=True)
    assert _same(as_keys(shown), as_keys(decoded))
    if kind.apart:  # new keys and new text: never the real ones
        if name == "id":
            assert not set(decoded.dropna()) & set(values.dropna())
    else:
        assert _same(kind.compared(decoded, col)[0], kind.compared(values, col)[0])


@pytest.mark.parametrize("name,i", CASES)
def test_decoding_a_chunk_gives_the_same_rows(name, i):
    kind, values, encoder = _fitted(name, i)
    encoded = encoder.encode(values.to_frame(), np.random.default_rng(1))
    whole = encoder.decode(encoded, seed=5)
    tail = encoder.decode(
        type(encoded)(encoded.continuous[10:], encoded.discrete[10:], N - 10),
        seed=5,
        start=10,
        total=N,
    )
    assert _same(as_keys(whole.iloc[10:, 0]), as_keys(tail.iloc[:, 0]))


@pytest.mark.parametrize("name,i", CASES)
def test_decoding_no_rows_gives_an_empty_column(name, i):
    """The stream writers ask for zero rows to learn the output's types (`sample_rows(0, 0)`)."""
    _, values, encoder = _fitted(name, i)
    encoded = encoder.encode(values.to_frame(), np.random.default_rng(1))
    empty = type(encoded)(encoded.continuous[:0], encoded.discrete[:0], 0)
    for categorical in (False, True):
        frame = encoder.decode(empty, seed=5, categorical=categorical)
        assert list(frame.columns) == [values.name] and len(frame) == 0


@pytest.mark.parametrize("name,i", CASES)
def test_the_codes_a_condition_maps_to(name, i):
    kind, values, encoder = _fitted(name, i, rare_threshold=2)  # a value seen once is rare
    target = targets(encoder)[values.name]
    col, state = target.col, target.state
    present = values[values.notna()]
    if target.discrete:
        classes = target.classes()
        # the value part's codes are the classes, then the rare pool and null, each once
        codes = list(range(len(classes))) + [
            c for c in (target.rare_code, target.null_code) if c is not None
        ]
        assert sorted(codes) == list(range(target.cardinality))
        assert kind.parse is not None
        assert (
            list(kind.parse(pd.Series(classes, dtype=object), col, state)) == codes[: len(classes)]
        )
        assert list(kind.parse(pd.Series([None], dtype=object), col, state)) == [-2]
        given = kind.parse(present.astype(object), col, state)
        # a value the model can't write (rare) maps to no code: conditions take the rare pool
        assert ((given >= 0) | ((given == -1) & (target.rare_code is not None))).all()
    elif target.continuous:
        assert kind.parse is not None and kind.grid(state) >= 0
        given = kind.parse(present.astype(object).reset_index(drop=True), col, state)
        low, high = target.seen_range()  # training values, extremes and all
        assert ((given >= low) & (given <= high)).all()
        written_low, written_high = target.real_range()  # the few most extreme left out
        assert low <= written_low <= written_high <= high
        assert isinstance(kind.show(float(given[0])), str)
    else:  # no value part: generated apart (keys, text) or one value (constant)
        assert target.value is None and kind.parse is None
        return
    # a given cell is written back as the same value
    written = kind.written(given, present.reset_index(drop=True), col, state)
    assert _same(kind.compared(written, col)[0], kind.compared(present, col)[0])


@pytest.mark.parametrize("name,i", CASES)
def test_typed_values_are_the_same_values_in_a_natural_dtype(name, i):
    kind, values, encoder = _fitted(name, i)
    col = encoder.schema.columns[0]
    typed = kind.typed(values, col)
    assert typed.index.equals(values.index) and (null_mask(typed) == null_mask(values)).all()
    if kind.shape is not None:
        assert _same(kind.compared(typed, col)[0], kind.compared(values, col)[0])
        assert typed.dtype != object or kind.shape == "discrete"


@pytest.mark.parametrize("name,i", CASES)
def test_compared_values_keep_nulls_and_the_report_shape(name, i):
    kind, values, encoder = _fitted(name, i)
    if kind.shape is None:
        return
    x, _ = kind.compared(values, encoder.schema.columns[0])
    assert len(x) == N
    if kind.shape == "continuous":
        assert (np.isnan(x.astype(float)) == null_mask(values)).all()
    else:
        assert (null_mask(x) == null_mask(values)).all()


def test_whole_table_nulls_reach_a_sample_without_them():
    """`counted`: nulls too rare to be in a sample still get a null indicator."""

    class Counts:
        nulls, counts = 3, None

    for name in KINDS:
        values = EXAMPLES[name][0].dropna()
        col = detect_column(values)
        col.value = col.value if name != "constant" else "EUR"
        state = KINDS[col.kind].fit(values, col, rare_threshold=0, counted=Counts())
        assert state["has_nulls"], name
        assert not has_nulls(values, None)


# ---- a kind that is not synthgen's: registered here, used everywhere ----------------------------


def _percent(values: pd.Series) -> np.ndarray:
    """ "12%" (or a condition's "12") as 12.0."""
    keys = as_keys(values)
    return np.array([np.nan if v is None else float(str(v).strip().rstrip("%")) for v in keys])


def _claims_percent(ev: Evidence) -> bool:
    return ev.stripped is not None and all(
        t.endswith("%") and not np.isnan(numeric_kind.parse_numbers([t[:-1]])[0])
        for t in ev.stripped
    )


def _fit_percent(values, col, rare_threshold=0, counted=None):
    x = _percent(values)
    return {
        "min": float(np.nanmin(x)),
        "max": float(np.nanmax(x)),
        "has_nulls": has_nulls(values, counted),
    }


def _decode_percent(arrays, col, state, rows, as_category=False):
    x, missing = numeric_kind.decode_continuous(arrays, state)
    out = pd.Series([f"{v:.0f}%" for v in x], dtype=object)
    out[missing] = None
    return out


PERCENT = Kind(
    name="percent",
    claims=_claims_percent,
    fit=_fit_percent,
    parts=numeric_kind.continuous_parts,
    encode=lambda values, col, state, rng: numeric_kind.encode_continuous(
        _percent(values), state, rng
    ),
    decode=_decode_percent,
    parse=lambda values, col, state: _percent(values),
    grid=lambda state: 1.0,
    shape="continuous",
    compared=lambda values, col: (_percent(values), True),
)


@pytest.fixture
def percent_registered():
    saved = dict(KINDS)
    KINDS.clear()
    KINDS.update({"percent": PERCENT, **saved})  # asked first: categories would claim "12%"
    yield
    KINDS.clear()
    KINDS.update(saved)


def test_a_new_kind_is_one_record_and_one_registration(percent_registered, tmp_path):
    rng = np.random.default_rng(0)
    shares = rng.integers(0, 101, 300)
    table = pd.DataFrame(
        {
            "share": [f"{s}%" for s in shares],
            "group": np.where(shares > 50, "high", "low"),
        }
    )
    model = synthgen.fit(table, seed=0)
    assert [c.kind for c in model.schema_.columns] == ["percent", "categorical"]
    model.save(tmp_path / "m.synthgen")
    model = synthgen.load(tmp_path / "m.synthgen")
    rows = model.sample(200, seed=1, where="share>=60")
    x = _percent(rows["share"])
    assert (x >= 60).all() and (x <= 100).all()
    assert (rows["group"] == "high").mean() > 0.8
    filled = model.fill(pd.DataFrame({"share": [None, "20%"], "group": ["high", None]}), seed=2)
    assert filled["share"].iloc[1] == "20%" and filled["group"].notna().all()
    report = synthgen.report(table, model.sample(300, seed=3), model=model)
    assert {r["column"] for r in report.to_dict()["fidelity"]["column_shapes"]} == {
        "share",
        "group",
    }


def test_a_new_kind_takes_part_in_rules_by_declaring_its_role(percent_registered):
    rng = np.random.default_rng(0)
    low = rng.integers(0, 50, 300)
    high = low + rng.integers(0, 50, 300)
    table = pd.DataFrame({"low": [f"{v}%" for v in low], "high": [f"{v}%" for v in high]})
    schema = detect(table)
    assert [c.kind for c in schema.columns] == ["percent", "percent"]
    assert discover(table, schema) == []  # no role: no rule compares its values
    KINDS["percent"] = replace(
        PERCENT, rules=InRules("amount", values=lambda values, col: _percent(values))
    )
    assert [r.text() for r in discover(table, schema)] == ["low <= high"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_free_text_never_writes_a_value_few_rows_hold(seed):
    """Full names of common first names and surnames: each word is in many rows, most full
    names in one to four, and a few rows hold a common word alone. No written value is a whole
    value fewer than 5 rows hold (before, 2-6% of written rows were); words go only where such
    values need it: notes whose rare values each hold a word of their own keep every word."""
    from synthgen.columns import text
    from synthgen.schema import Column

    rng = np.random.default_rng(seed)
    first = [f"F{i}" for i in rng.zipf(1.5, 600) % 40]
    last = [f"L{i}" for i in rng.zipf(1.3, 600) % 90]
    names = pd.Series([f"{a} {b}" for a, b in zip(first, last)] + ["F1"] * 3 + ["L2"] * 7)
    col = Column(name="name", kind="text")
    state = text.fit(names, col, rare_threshold=5)
    written = text.decode([], col, state, RowRandom(seed, 0, 5000))
    counts = names.value_counts()
    rare = set(counts.index[counts < 5])
    words = names.str.split().map(set).explode().value_counts()
    common = set(state["words"]) - {text.MADE}
    assert len(common) >= 3 and common <= set(words.index[words >= 5])
    assert written.notna().all() and not set(written) & rare
    unpruned = {
        k: v
        for k, v in state.items()
        if not k.endswith(("first_probabilities", "last_probabilities", "alone_probabilities"))
    }
    before = text.decode(
        [],
        col,
        {
            **unpruned,
            "words": list(words.index[words >= 5]),
            "word_probabilities": list(words[words >= 5] / words[words >= 5].sum()),
        },
        RowRandom(seed, 0, 5000),
    )
    assert set(before) & rare  # the case arises without the pruning
    notes = pd.Series(
        [
            f"call back {w} about the {d}"
            for w, d in zip(range(300), rng.choice(["bill", "fee"], 300))
        ]
    )
    kept = set(text.fit(notes, col, rare_threshold=5)["words"]) - {text.MADE}
    assert sorted(kept) == sorted(["call", "back", "about", "the", "bill", "fee"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_free_text_opens_and_closes_values_with_words_that_do(seed):
    """Place names of a first word, a connective and a second ("Barrow & Furness"), and some
    of one word: a connective is never written alone nor at either end, a one-word value is a
    word rows hold alone; a state from before (no such lists) draws as it did, connectives
    anywhere (UK House of Commons' constituencies came out as `&` alone)."""
    from synthgen.columns import text
    from synthgen.schema import Column

    rng = np.random.default_rng(seed)
    heads, tails = [f"H{i}" for i in range(3)], [f"T{i}" for i in range(3)]
    two = [f"{a} & {b}" for a, b in zip(rng.choice(heads, 500), rng.choice(tails, 500))]
    one = list(rng.choice(["Vale", "Moor"], 100))
    col = Column(name="place", kind="text")
    state = text.fit(pd.Series(two + one), col, rare_threshold=5)
    written = text.decode([], col, state, RowRandom(seed, 0, 4000)).str.split()
    assert not written.map(lambda ws: ws[0] == "&" or ws[-1] == "&").any()
    alone = written[written.map(len) == 1].map(lambda ws: ws[0])
    assert len(alone) > 100 and set(alone) <= {"Vale", "Moor"}
    old = {
        k: v
        for k, v in state.items()
        if not k.endswith(("first_probabilities", "last_probabilities", "alone_probabilities"))
    }
    before = text.decode([], col, old, RowRandom(seed, 0, 4000)).str.split()
    assert before.map(lambda ws: ws[0] == "&" or ws[-1] == "&").mean() > 0.1


@pytest.mark.parametrize("seed", [0, 1])
def test_keys_of_a_dense_shape_never_spell_a_real_key(seed):
    """20,000 keys of shape AA999 fill 3% of its 676,000 spellings: a key drawn at random spelt
    a real one 598 times in 20,000 draws. The model keeps a short hash of each real key (each
    matches many spellings) and draws such a key again: none is real, all are unique, and
    (but for a row unlucky KEY_TRIES times, which gets one digit more) they keep the shape."""
    from synthgen.columns.identifier import KEY_TRIES

    rng = np.random.default_rng(seed)
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    real: set[str] = set()
    while len(real) < 20_000:
        real.add("".join(rng.choice(letters, 2)) + f"{rng.integers(0, 1000):03d}")
    table = pd.DataFrame({"customer": sorted(real), "x": rng.normal(size=len(real))})
    model = synthgen.fit(table.sample(frac=1, random_state=seed), seed=seed)
    out = model.sample(20_000, seed=seed)["customer"]
    assert not set(out) & real and out.is_unique
    assert (out.str.len() == 5).mean() > 1 - 0.001, KEY_TRIES
    chunks = pd.concat(list(model.iter_sample(20_000, seed=seed, chunk_rows=3_000)))["customer"]
    assert chunks.tolist() == out.tolist()
    assert model.sample(3, seed=seed + 1)["customer"].tolist() != out[:3].tolist()


def test_keys_keep_what_every_real_key_begins_and_ends_with():
    """A URL's site and path, an e-mail's domain, a year before a running number: what every
    real key shares tells of no one and is written as it is; the rest is spelt anew, as
    before (great_tables' films wrote `njrvn://fdd.hrxg.hqw/fwvtc/fm5869644/` for IMDb
    pages, peeps `msbbhtnpxdxv@ogasbph.zcf`). A shared run that goes on in some key (`tt00`
    of `tt0038297`, `tt0112345`) is not cut into."""
    rng = np.random.default_rng(0)
    n = 300
    numbers = rng.choice(np.arange(30000, 9999999), n, replace=False)
    names = ["".join(rng.choice(list("abcdefghij"), int(rng.integers(3, 9)))) for _ in range(n)]
    table = pd.DataFrame(
        {
            "url": [f"https://www.imdb.com/title/tt{k:07d}/" for k in numbers],
            "email": [f"{name}{i}@example.com" for i, name in enumerate(names)],
            "order": [f"2015-{i:06d}" for i in range(1, n + 1)],
            "x": rng.normal(size=n),
        }
    )
    schema = synthgen.detect(table)
    assert [schema[c].kind for c in ("url", "email", "order")] == ["id"] * 3
    assert schema["url"].pattern == "https://www.imdb.com/title/tt9999999/"
    out = synthgen.fit(table, schema=schema, seed=0).sample(2000, seed=1)
    assert out["url"].str.fullmatch(r"https://www\.imdb\.com/title/tt\d{7}/").all()
    assert out["email"].str.endswith("@example.com").all()
    assert out["order"].str.fullmatch(r"2015-\d{6}").all()
    for c in ("url", "email", "order"):
        assert out[c].is_unique and not set(out[c]) & set(table[c]), c


def test_phone_numbers_written_with_spaces_are_keys():
    """Numbers one dials, some written with spaces (`0490 73 65 40` beside `240-783-7630`),
    were free text whose words no row shares: every synthetic value was empty (great_tables'
    peeps). They are keys of the commonest shape; numbers in a few spaced parts (`12 5`) and
    words are not."""
    rng = np.random.default_rng(0)
    phones = [
        f"{a}-{b}-{c}" for a, b, c in rng.integers([200, 100, 1000], [999, 999, 9999], (90, 3))
    ]
    phones += [f"04{a:02d} {b:02d} {c:02d} {d:02d}" for a, b, c, d in rng.integers(10, 99, (30, 4))]
    table = pd.DataFrame({"phone": phones, "x": rng.normal(size=120)})
    schema = synthgen.detect(table)
    assert (schema["phone"].kind, schema["phone"].pattern) == ("id", "999-999-9999")
    out = synthgen.fit(table, schema=schema, seed=0).sample(200, seed=1)["phone"]
    assert out.str.fullmatch(r"\d{3}-\d{3}-\d{4}").all() and out.is_unique
    scores = pd.DataFrame({"score": [f"{a} {b}" for a, b in rng.integers(0, 9, (120, 2))]})
    assert synthgen.detect(scores)["score"].kind != "id"


@pytest.mark.parametrize(
    "name,kind",
    [
        ("year", "numeric"),
        ("t", "numeric"),
        ("time", "numeric"),
        ("fiscal_year", "numeric"),
        ("Month", "numeric"),
        ("obs", "id"),
        ("index", "id"),
        ("year_id", "id"),
    ],
)
def test_a_run_of_whole_numbers_named_as_a_time_is_a_number(name, kind):
    """Unique whole numbers running 1700..1988 are a key unless named as a time: a series'
    `year` or `t` is the index its values follow."""
    values = pd.Series([str(v) for v in range(1700, 1989)], name=name)
    assert detect_column(values).kind == kind


@pytest.mark.trained
@pytest.mark.parametrize("model", ["gaussian-copula", "gmm", "cart"])
def test_a_series_keeps_its_years_and_its_trend(model, seed):
    """A yearly series (`year` 1900-2019, a value rising with it): drawn years stay within the
    real ones' range and the value still rises with them. Read as a key, `year` was written
    from 2020 on and no value followed it (correlation 0). Real correlation 0.97-0.98, drawn
    0.955-0.983 on seeds 0-3 (every core model)."""
    rng = np.random.default_rng(seed)
    year = np.arange(1900, 2020)
    gdp = np.round(100 + 2.0 * (year - 1900) + rng.normal(0, 15, 120), 1)
    real = pd.DataFrame({"year": year, "gdp": gdp})
    synth = synthgen.fit(real, model=model, seed=seed).sample(500, seed=seed + 1)
    assert synth["year"].between(1900, 2019).all()
    assert synth["year"].corr(synth["gdp"]) > 0.8
