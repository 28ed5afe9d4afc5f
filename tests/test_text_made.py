"""Free text whose words are mostly rare (names, places, cabins): made-up words stand where rare
words stood (`synthgen.columns.spelling`), never a real rare word, as often as rare words are
there, and spelt as they are."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.columns import text
from synthgen.columns.base import RowRandom
from synthgen.schema import Column

SYLLABLES = ["ka", "ri", "mo", "len", "sa", "to", "vi", "na", "del", "ro", "mi", "tha", "bur", "go"]


def _names(rng: np.random.Generator, n: int) -> pd.Series:
    """Full names: first names of a few common ones (zipf) and many rare, surnames mostly
    unique; one champion's name in 5% of rows (a marathon's winners: before, her name was
    written in 95 of 100 rows, as the only name many rows hold)."""

    def word(k: int, end: str) -> str:
        return ("".join(rng.choice(SYLLABLES, k)) + end).capitalize()

    firsts = [word(2, "a") for _ in range(60)]
    first = [firsts[i % 60] for i in rng.zipf(1.4, n)]
    last = [word(int(rng.integers(2, 4)), "son") for _ in range(n)]
    names = [f"{a} {b}" for a, b in zip(first, last)]
    champion = n // 20
    return pd.Series(["Grete Waitz"] * champion + names[champion:])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rare_words_give_way_to_made_up_words_of_their_look(seed):
    rng = np.random.default_rng(seed)
    names = _names(rng, 600)
    col = Column(name="name", kind="text")
    state = text.fit(names, col, rare_threshold=5)
    written = text.decode([], col, state, RowRandom(seed, 0, 5000))
    real_words = names.str.split().explode()
    per_row = names.str.split().map(set).explode().value_counts()
    rare = set(per_row.index[per_row < 5])
    common = set(state["words"]) - {text.MADE}
    assert written.notna().all()
    words = written.str.split().explode()
    # privacy: no real rare word, and no real rare value, is written
    assert not set(words) & rare
    counts = names.value_counts()
    assert not set(written) & set(counts.index[counts < 5])
    # the champion is written about as often as real rows name her (before: nearly always)
    assert (written == "Grete Waitz").mean() < 0.05 + 0.03
    # made-up words where rare words stood, as often (share of words)
    real_rare_share = real_words.isin(rare).mean()
    made = words[~words.isin(common)]
    assert abs(len(made) / len(words) - real_rare_share) < 0.05
    # spelt as the rare words are: a capital then small letters, of their lengths
    assert made.map(lambda w: bool(re.fullmatch(r"[A-Z][a-z]*", w))).mean() > 0.98
    lengths = [len(w) for w in rare]
    assert min(lengths) <= made.str.len().min() and made.str.len().max() <= max(lengths)
    assert abs(made.str.len().mean() - np.mean(lengths)) < 1.5
    assert made.nunique() > 0.5 * len(made)  # new words, not a few over and over


@pytest.mark.parametrize("seed", [0, 1])
def test_a_column_of_rare_values_only_is_written_at_its_null_rate(seed):
    """titanic's cabins (`B45`, `C23`): no cabin five rows hold, so every value was empty. Now
    cabins of their look are written, in as many rows as hold one."""
    rng = np.random.default_rng(seed)
    n = 400
    deck, number = rng.choice(list("ABCDEFG"), n), rng.permutation(n) + 1
    cabin = [f"{d}{k}" if k % 5 else f"{d}{k} {d}{k + 2}" for d, k in zip(deck, number)]
    cabin = pd.Series(cabin, dtype=object).where(rng.random(n) < 0.3, None)
    table = pd.DataFrame({"cabin": cabin, "fare": rng.gamma(2.0, 20.0, n)})
    schema = synthgen.detect(table)
    assert schema.columns[0].kind == "text"
    out = synthgen.fit(table, schema=schema, seed=seed).sample(3000, seed=seed)["cabin"]
    assert abs(out.notna().mean() - table["cabin"].notna().mean()) < 0.05
    assert out.dropna().map(lambda c: bool(re.fullmatch(r"[A-G][0-9]+( [A-G][0-9]+)*", c))).all()
    assert not set(out.dropna()) & set(table["cabin"].dropna())


def test_made_up_words_are_the_same_however_rows_are_chunked():
    names = _names(np.random.default_rng(0), 600)
    col = Column(name="name", kind="text")
    state = text.fit(names, col, rare_threshold=5)
    whole = text.decode([], col, state, RowRandom(3, 0, 1000))
    parts = [
        text.decode([], col, state, RowRandom(3, a, b - a, total=1000))
        for a, b in [(0, 300), (300, 1000)]
    ]
    assert whole.tolist() == pd.concat(parts).tolist()


def test_no_spelling_where_rare_words_share_no_first_letter_or_length():
    """Five rare words of five first letters: a first letter any of them takes is one word's,
    so no word is made up and rare words are left out as before."""
    values = pd.Series(["common word"] * 20 + ["Ax", "Bxx", "Cxxx", "Dxxxx", "Exxxxx"])
    state = text.fit(values, Column(name="t", kind="text"), rare_threshold=5)
    assert "spelling" not in state and text.MADE not in state["words"]
