"""Free text: new text from the words many rows share, never a real row's text.

Only words that occur in at least `rare_threshold` rows are kept (a name or an address written once
is never reproduced), less one word of each value fewer rows hold that those words could write
whole; each synthetic value takes a word count drawn from the real ones and words drawn by their
frequency: its first word among the words that open values, its last among those that close
them, a one-word value among the words rows hold alone, each as often as it does so where at
least `rare_threshold` rows do, so that a connective (`&`, `of`) is never written alone nor at
an end ("Barrow & Furness": before, `&` alone). Where no word is left, the values many rows
hold whole are drawn (a column of a few colours, each written in many rows, and of rare
combinations of them). Where a rare word stood (as often as real values hold one there: first,
last, alone or inside), a made-up word is written, spelt as the column's rare words are and
never one of them (`synthgen.columns.spelling`): names, places and cabin numbers were written
as the few words many rows share (a marathon's winners all `Grete Waitz`) or left empty. The
column is generated on its own, outside the model's dependence. Detected last: text that no
other kind claims (words with spaces, long values).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns.base import (
    NULL_SUFFIX,
    Column,
    Counted,
    Evidence,
    Kind,
    Part,
    RowRandom,
    has_nulls,
    null_mask,
)
from synthgen.columns.spelling import spell, speller

_MAX_WORDS = 64
#: A rare word's place among the words (never a word: words are split at spaces), where a
#: made-up word is written (`synthgen.columns.spelling`).
MADE = ""


def claims(ev: Evidence) -> bool:
    """Whatever the kinds before left (they leave only text)."""
    return True


def fit(
    values: pd.Series,
    col: Column,
    rare_threshold: int = 0,
    counted: Counted | None = None,
) -> dict[str, Any]:
    missing = null_mask(values)
    text = values[~missing].astype(str)
    words = text.str.split()
    counts = words.map(len).clip(upper=_MAX_WORDS)
    least = max(rare_threshold, 1)
    # rows per word, so that a word repeated within one row does not count as common
    per_row = words.map(lambda ws: sorted(set(ws))).explode().value_counts()
    kept = per_row[per_row >= least]
    kept = kept[kept.index.isin(_kept_apart(words, kept, rare_threshold))]
    # ties in the order of the words themselves, not of a set's hashing (PYTHONHASHSEED)
    order = sorted(range(len(kept)), key=lambda i: (-int(kept.iloc[i]), str(kept.index[i])))
    kept = kept.iloc[order]
    length_counts = counts.value_counts().sort_index()
    state: dict[str, Any] = {
        "has_nulls": has_nulls(values, counted),
        "lengths": [int(v) for v in length_counts.index],
        "length_probabilities": (length_counts / length_counts.sum()).tolist(),
        "suppressed_words": int(len(per_row) - len(kept)),
    }
    # no word left to write: the values many rows hold whole, if any, before made-up words
    whole = _common_values(words, least) if not len(kept) else None
    rare = per_row[~per_row.index.isin(kept.index)]
    spelling = None
    if len(rare) and (whole is None or not len(whole)):
        spelling = speller([str(w) for w in rare.index], rare_threshold)
    if spelling is not None:  # a made-up word in a rare word's place, as often (`spelling`)
        kept = pd.concat([kept, pd.Series({MADE: int(rare.sum())})])
    state["words"] = [str(w) for w in kept.index]
    state["word_probabilities"] = (kept / kept.sum()).tolist() if len(kept) else []
    if len(kept):  # the words that open, close or make values, where enough rows share them
        n_words = words.map(len)
        ends_of = {
            "first_probabilities": words[n_words > 0].map(lambda ws: ws[0]),
            "last_probabilities": words[n_words > 1].map(lambda ws: ws[-1]),
            "alone_probabilities": words[n_words == 1].map(lambda ws: ws[0]),
        }
        for key, at_end in ends_of.items():
            if spelling is not None:
                at_end = at_end.where(at_end.isin(kept.index), MADE)
            ends = at_end.value_counts().reindex(kept.index, fill_value=0)
            ends = ends.where(ends >= least, 0)
            if ends.sum():
                state[key] = (ends / ends.sum()).tolist()
        if spelling is not None:
            state["spelling"] = spelling
    elif whole is not None and len(whole):
        state["values"] = [str(v) for v in whole.index]
        state["value_probabilities"] = (whole / whole.sum()).tolist()
    return state


def _common_values(words: pd.Series, least: int) -> pd.Series:
    """Rows per whole value (its words as split), of the values `least` rows or more hold, the
    most held first (ties in the values' order)."""
    whole = words.map(" ".join).value_counts()
    whole = whole[whole >= least].sort_index(kind="stable")
    return whole.iloc[np.argsort(-whole.to_numpy(), kind="stable")]


def _kept_apart(words: pd.Series, kept: pd.Series, rare_threshold: int) -> set[str]:
    """The common words (`kept`: rows per word) less those a greedy cover drops so that no
    whole value held by fewer than `rare_threshold` rows is made of common words only: none
    can then be written whole. Each step drops the word in the most such values for the rows
    it holds (the less common first on ties), so the commonest words stay (Auto's `ford`, in
    many rare model names; an unweighted cover dropped it first). midwest's county kept one
    word of five rows, `LAKE`, which four rows hold alone: written alone in most rows it
    repeated theirs."""
    allowed = {str(w) for w in kept.index}
    cells = words.map(tuple).value_counts()
    rare = [set(c) for c in cells.index[cells < rare_threshold] if c and set(c) <= allowed]
    holding: dict[str, set[int]] = {}
    for i, cell in enumerate(rare):
        for w in cell:
            holding.setdefault(w, set()).add(i)
    while holding:
        worst = max(holding, key=lambda w: (len(holding[w]) / int(kept[w]), -int(kept[w]), w))
        allowed.discard(worst)
        for i in holding.pop(worst):
            for w in rare[i] - {worst}:
                if w in holding:
                    holding[w].discard(i)
                    if not holding[w]:
                        del holding[w]
    return allowed


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return [Part(f"{name}{NULL_SUFFIX}", 2)] if state["has_nulls"] else []


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return [null_mask(values).astype(np.int64)] if state["has_nulls"] else []


def decode(
    arrays: list[np.ndarray],
    col: Column,
    state: dict[str, Any],
    rows: RowRandom,
    as_category: bool = False,
) -> pd.Series:
    n = rows.n
    missing = arrays[0].astype(bool) if state["has_nulls"] else np.zeros(n, dtype=bool)
    words = np.array(state["words"], dtype=object)
    if not len(words):  # the values many rows hold whole (`fit`), else nothing to write
        out = np.full(n, None, dtype=object)
        if state.get("values"):
            drawn = rows.child(2).choice(state["value_probabilities"])
            out = np.array(state["values"], dtype=object)[drawn]
            out[missing] = None
        return pd.Series(out, dtype=object)
    lengths = np.asarray(state["lengths"])[rows.child(0).choice(state["length_probabilities"])]
    width = max(int(lengths.max(initial=0)), 1)
    drawn = words[rows.child(1).choice(state["word_probabilities"], width=width)]
    if "last_probabilities" in state:  # a value's last word, of those that close values
        last = words[rows.child(4).choice(state["last_probabilities"])]
        at = np.clip(lengths - 1, 0, width - 1)
        drawn[np.arange(n), at] = np.where(lengths > 1, last, drawn[np.arange(n), at])
    if "first_probabilities" in state:  # its first word, of those that open values
        drawn[:, 0] = words[rows.child(3).choice(state["first_probabilities"])]
    if "alone_probabilities" in state:  # a one-word value, of the words rows hold alone
        alone = words[rows.child(5).choice(state["alone_probabilities"])]
        drawn[:, 0] = np.where(lengths == 1, alone, drawn[:, 0])
    if "spelling" in state:  # made-up words where rare words stood
        common = np.where(words == MADE, 0.0, np.asarray(state["word_probabilities"]))
        for j in range(width):
            at = np.flatnonzero((drawn[:, j] == MADE) & (lengths > j))
            if not len(at):
                continue
            drawn[at, j] = made = spell(state["spelling"], rows.child(100 + j).take(at))
            # every spelling a real rare word (short words of a few letters fill their
            # space): a common word in its place, else the word is left out
            if common.sum() and pd.isna(made).any():
                lost = at[pd.isna(made)]
                drawn[lost, j] = words[rows.child(200 + j).take(lost).choice(common)]
    gone = pd.isna(drawn)  # a made-up word every spelling of which was a real rare word
    drawn[gone] = ""
    out = drawn[:, 0].astype(object)
    for j in range(1, width):
        more = (lengths > j) & ~gone[:, j]
        out = np.where(more, out + np.where(out == "", "", " ") + drawn[:, j], out)
    out[missing | (lengths == 0) | (out == "")] = None
    return pd.Series(out, dtype=object)


KIND = Kind(
    name="text",
    claims=claims,
    fit=fit,
    parts=parts,
    encode=encode,
    decode=decode,
    apart=True,
    rare_check="cells",
)
