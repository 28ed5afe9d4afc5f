"""Made-up words for free text: a word few rows hold is never written, yet a value of it is
written with a new word in its place, spelt letter by letter as the column's rare words are.

Why: free text keeps only the words many rows share. Where most words are rare (names,
places, titles, cabin numbers), that left a value little or nothing to be made of. openintro's
`nyc_marathon` wrote `Grete Waitz` (9 of 102 real rows, the only name several rows hold) in
97 of 102 synthetic rows; its countries' infant mortality wrote `Saint` and `Saint Islands`
for every country; titanic's `Cabin` (`B45`, `C23 C25 C27`: no cabin five rows hold) was empty
in every row. Over 1,079 CSVs, 125 of 150 free-text columns have fewer than half their words
in common ones.

Now a rare word's place (as often as real rows hold rare words there: first, last, alone or
inside a value) is taken by a made-up word, spelt along a chain over characters (Shannon's
n-gram letters, order 1): a length drawn as the rare words' lengths are, a first character,
then each next one as the distinct rare words take them, the last one also as often as words
end after it. A first character or a length is kept where `rare_threshold` distinct rare words
share it; a step (one character after another) where `STEP_WORDS` do: a pair of letters two
words share is no one's, and a character from which no kept step leads ends the word. A
made-up word is never a real rare word: the model keeps a short hash of each (as of keys,
`identifier.key_hashes`: each hash matches many spellings, so it proves no word was there) and
spells such a word again, up to `TRIES` times; the text kind then writes a common word in its
place (`text.decode`).

Example:
    >>> from synthgen.columns.base import RowRandom
    >>> words = ["Mara", "Maren", "Marin", "Mora", "Moren", "Nara", "Naren", "Norin"]
    >>> state = speller(words, 2)
    >>> sorted(state["chars"])
    ['M', 'N', 'a', 'e', 'i', 'n', 'o', 'r']
    >>> made = spell(state, RowRandom(0, 0, 200))
    >>> bool(all(w[0] in "MN" and w[1:].islower() for w in made))
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthgen.columns.base import RowRandom, hash_bits, matches

#: The longest made-up word, in characters (and the most of a real word the chain reads).
LONGEST = 40
#: Spellings tried for a word before it is left out: a made-up word that hashes as a real
#: rare word is spelt again.
TRIES = 16
#: Distinct rare words that must take a step (one character after another) for the chain to
#: learn it: a pair of letters two words share is no one's (a threshold of 5, as for words,
#: left 113 marathon winners' names too few steps: most made-up names were one letter).
STEP_WORDS = 2
#: Stream keys of the draws (`RowRandom.child`), apart from the text kind's own.
_STREAM = 1_000
#: Words spelt at once (their draws and steps are a block's rows times the characters).
_BLOCK = 20_000


def speller(words: list[str], rare_threshold: int) -> dict[str, Any] | None:
    """The chain that spells new words like `words` (distinct rare words), with the short
    hashes of those words; None where no first character, or no length, is shared by
    `rare_threshold` of them (nothing could be spelt without copying one word's)."""
    least = max(int(rare_threshold), 1)
    words = [w[:LONGEST] for w in dict.fromkeys(words) if w and "\0" not in w]
    if len(words) < least:
        return None
    chars = sorted({c for w in words for c in w})
    index = {c: i for i, c in enumerate(chars)}
    size = len(chars)
    start = np.zeros(size)
    step = np.zeros((size, size + 1))  # the last column: the word ends
    lengths = np.zeros(LONGEST + 1)
    for word in words:
        codes = [index[c] for c in word]
        start[codes[0]] += 1
        lengths[len(codes)] += 1
        for a, b in set(zip(codes, codes[1:] + [size])):  # each word counts a step once
            step[a, b] += 1
    start[start < least] = 0
    lengths[lengths < least] = 0
    step[step < min(least, STEP_WORDS)] = 0
    if not start.sum() or not lengths.sum():
        return None
    step[step.sum(axis=1) == 0, size] = 1.0  # no kept step from here: the word ends
    bits = hash_bits(len(words))
    held = np.flatnonzero(lengths)
    return {
        "chars": "".join(chars),
        "start": (start / start.sum()).tolist(),
        "next": (step / step.sum(axis=1, keepdims=True)).tolist(),
        "lengths": held.tolist(),
        "length_probabilities": (lengths[held] / lengths.sum()).tolist(),
        "bits": bits,
        "hashes": np.unique(_hashes(words, bits)).tolist(),
    }


def spell(state: dict[str, Any], rows: RowRandom) -> np.ndarray:
    """One made-up word per row of `rows` (object array; None where every try spelt a real
    rare word), drawn from `rows`' own streams."""
    out = np.full(rows.size, None, dtype=object)
    todo = np.arange(len(out))
    hashes = np.asarray(state["hashes"], dtype=np.uint64)
    for attempt in range(TRIES):
        if not len(todo):
            break
        stream = rows.child(_STREAM + attempt)
        words = np.concatenate(
            [
                _spelt(state, stream.take(todo[lo : lo + _BLOCK]))
                for lo in range(0, len(todo), _BLOCK)
            ]
        )
        real = matches(_hashes(words, state["bits"]), hashes)
        out[todo[~real]] = words[~real]
        todo = todo[real]
    return out


def _spelt(state: dict[str, Any], rows: RowRandom) -> np.ndarray:
    """A word per row (object array): a length drawn as the rare words' are, its first
    character, then each next one along the chain's steps other than the end; the last is
    drawn in proportion to how often words end after it, too (a name ends in `a` or `n`
    more often than in `j`). A character no step leads on from ends the word early."""
    chars = np.array([ord(c) for c in state["chars"]], dtype=np.uint32)
    size = len(chars)
    lengths = np.asarray(state["lengths"])
    draws = rows.uniform(width=int(lengths.max()) + 1)
    length = lengths[_pick(np.cumsum(state["length_probabilities"]), draws[:, 0])]
    at = _pick(np.cumsum(state["start"]), draws[:, 1])
    codes = np.zeros((len(draws), int(lengths.max())), dtype=np.uint32)  # 0: past the end
    codes[:, 0] = chars[at]
    chain = np.asarray(state["next"], dtype=float)
    steps = chain[:, :size]
    last = steps * chain[:, size][None, :]  # the last character: as often as words end after it
    last = np.where(last.sum(axis=1, keepdims=True) > 0, last, steps)
    on, ending = _rows_in_one(steps), _rows_in_one(last)
    stuck = steps.sum(axis=1) <= 0  # no step leads on: the word ends here
    alive = length > 1
    for t in range(1, codes.shape[1]):
        live = np.flatnonzero(alive)
        live = live[~stuck[at[live]]]
        alive[:] = False
        if not len(live):
            break
        here, u = at[live], draws[live, t + 1]
        final = length[live] == t + 1
        nxt = np.where(final, _step(ending, here, u, size), _step(on, here, u, size))
        at[live] = nxt
        codes[live, t] = chars[nxt]
        alive[live] = ~final
    # code points to strings: numpy's fixed-width text drops the trailing zeros
    return codes.view(f"<U{codes.shape[1]}").ravel().astype(object)


def _rows_in_one(weights: np.ndarray) -> np.ndarray:
    """Each row's cumulative shares, row r moved up by r: one ascending array that a single
    `searchsorted` reads every row's draw from (`_step`)."""
    total = weights.sum(axis=1, keepdims=True)
    cum = np.cumsum(weights, axis=1) / np.where(total > 0, total, 1.0)
    return (cum + np.arange(len(weights))[:, None]).ravel()


def _step(table: np.ndarray, here: np.ndarray, u: np.ndarray, size: int) -> np.ndarray:
    """The next character of each word at character `here`, for uniform draws `u`."""
    return np.clip(np.searchsorted(table, here + u, side="right") - here * size, 0, size - 1)


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(cum) - 1)


def _hashes(words: Any, bits: int) -> np.ndarray:
    from synthgen.columns.identifier import key_hashes

    return key_hashes(list(words), bits)
