"""Key-like columns (unique values): new keys of the same shape, never a real one.

Detected from unique integers named like a key or running as a near-contiguous sequence, and from
text without spaces that is neither numbers, dates nor categories. Integer keys continue after the
real maximum. Text keys follow the most common shape of the real
ones ("AB-1234" -> "AA-9999": A letter, 9 digit, other characters kept), drawn through a bijection
of the row number, so they are unique across chunks and reproducible without storing real keys.
A drawn text key could still spell a real one (20,000 keys of shape AA999 drew 598 real ones):
the model keeps a short hash of each real key (`hash_bits` long, so that each names many
possible keys, not one), and a drawn key whose hash is among them is drawn again, up to
`KEY_TRIES` times, then made one digit longer than the shape (which no key of the shape is).
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns import numeric
from synthgen.columns.base import (
    _GOLDEN,
    NULL_SUFFIX,
    Column,
    Counted,
    Evidence,
    Kind,
    Part,
    RowRandom,
    _mix,
    as_given,
    has_nulls,
    hash_bits,
    is_text,
    matches,
    null_mask,
    stored_hashes,
)

_ID_NAME = re.compile(r"(^|[_\s-])(id|key|uuid|guid|code)$|^id[_\s-]|(?<=[a-z])Id$|ID$", re.I)
# A run of whole numbers named as a time (a series' `year` 1700-1988, its `t` or `time` 1..n) is
# an index the other columns follow: a number, whose trend the models keep. Read as a key it was
# written from past the real maximum (years to come, `time` 151 on), and no column followed it.
_TIME_NAME = re.compile(
    r"(^|[_\s.-])(year|yr|time|t|period|month|week|day|quarter|date|hour)s?$", re.I
)
_INTEGER = re.compile(r"^[+-]?\d+$")
# Integers beyond int64 can't be decoded as integers: such keys get a pattern of digits.
_INT64 = 2.0**63
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DIGITS = np.array(list("0123456789"))
_UPPER = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_LOWER = np.array(list("abcdefghijklmnopqrstuvwxyz"))
_HEX = np.array(list("0123456789abcdef"))
_ALPHABETS = {"9": _DIGITS, "A": _UPPER, "a": _LOWER}
_UUID_GROUPS = ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
#: Draws of a text key whose hash is a real key's, each a code no other row's draws take; a row
#: still unlucky after them gets a key one digit longer (the shape's space holds at least
#: 10 codes per row, so every try stays within it).
KEY_TRIES = 8
#: Rounds of the Feistel network that spells a row's key (`_permute`).
_ROUNDS = 4


def shape_of(values: pd.Series) -> str:
    r"""The most common shape of the keys: 'uuid', or a template of A/a/9 and literal characters
    (`\` before a literal A, a, 9 or `\`). What every key begins or ends with, up to where
    a run of letters or digits goes on (`https://www.imdb.com/title/tt`, `@example.com`), is
    kept as written: it tells of no one, and spelt anew it wrote `njrvn://fdd.hrxg.hqw/...`.

    Example:
        >>> shape_of(pd.Series(["https://x.com/tt0038297/", "https://x.com/tt1234567/"]))
        'https://x.com/tt9999999/'
        >>> shape_of(pd.Series(["rc@example.com", "fan_g@example.com", "ab@example.com"]))
        'aa@ex\\ample.com'
    """
    text = values.astype(str)
    if text.str.match(_UUID).all():
        return "uuid"
    head, tail = _shared_ends(text.drop_duplicates().tolist())
    middle = text.str.slice(len(head), -len(tail) if tail else None)
    shapes = middle.str.replace(r"[A-Z]", "A", regex=True).str.replace(r"[a-z]", "a", regex=True)
    shapes = shapes.str.replace(r"[0-9]", "9", regex=True)
    return _escaped(head) + str(shapes.value_counts().index[0]) + _escaped(tail)


def _escaped(text: str) -> str:
    """Literal text in a shape: a backslash before each A, a, 9 and backslash."""
    return re.sub(r"([Aa9\\])", r"\\\1", text)


def _class(ch: str) -> str:
    return "9" if ch.isdigit() else "a" if ch.isalpha() else ch


def _shared_ends(keys: list[str]) -> tuple[str, str]:
    """The text every key begins with and the text every key ends with (not overlapping), each
    cut back to where a run of letters or digits that goes on in some key starts."""
    shortest = min(map(len, keys))
    head = _cut(os.path.commonprefix(keys)[:shortest], keys)
    backwards = [k[len(head) :][::-1] for k in keys]
    tail = _cut(os.path.commonprefix(backwards)[: shortest - len(head)], backwards)
    return head, tail[::-1]


def _cut(shared: str, keys: list[str]) -> str:
    """`shared` (a prefix of every key) without its last run of letters or digits where some
    key's next character goes on with that run."""
    while shared and _class(shared[-1]) in "a9":
        if not any(
            len(k) > len(shared) and _class(k[len(shared)]) == _class(shared[-1]) for k in keys
        ):
            break
        run = _class(shared[-1])
        while shared and _class(shared[-1]) == run:
            shared = shared[:-1]
    return shared


def _tokens(pattern: str) -> list[np.ndarray | str]:
    """A shape's characters: the alphabet of each A, a and 9, other characters (and those after
    a backslash) as written."""
    out: list[np.ndarray | str] = []
    escaped = False
    for ch in pattern:
        if escaped or ch != "\\":
            alphabet = None if escaped else _ALPHABETS.get(ch)
            out.append(alphabet if alphabet is not None else ch)
            escaped = False
        else:
            escaped = True
    return out


def _looks_like_id(name: str, values: pd.Series, n_unique: int, n_rows: int) -> bool:
    """Unique integers that are named like a key, or run as a near-contiguous sequence and are
    not named as a time (`_TIME_NAME`)."""
    if n_unique != n_rows or n_rows < 20:
        return False
    if _ID_NAME.search(name):
        return True
    if _TIME_NAME.search(name):
        return False
    span = float(values.max()) - float(values.min()) + 1
    return span <= 1.05 * len(values)


def claims(ev: Evidence) -> bool:
    """Unique integers named like a key or running 1..n; text without spaces, at most 64
    characters, that is not numbers, dates or repeating categories (codes, keys)."""
    n_rows = len(ev.values)
    if ev.text is None:
        integers = pd.api.types.is_integer_dtype(ev.values.dtype)
        return integers and _looks_like_id(ev.name, ev.values, ev.n_unique, n_rows)
    if numeric.holds(ev):
        found = numeric.numbers_of(ev)
        assert found is not None
        return found.integer and _looks_like_id(
            ev.name, pd.Series(found.numbers), ev.n_unique, n_rows
        )
    spaced = ev.has_space and not _dialled(ev.stripped or [])
    return not spaced and (ev.mostly_one_offs or not (ev.repeats or ev.long))


#: A number one dials (`0490 73 65 40`, `+1 (240) 783-7630`): digits, spaces and + - ( ) . only,
#: at least this many digits.
_DIAL = re.compile(r"^\+?[\d\s().-]+$")
_DIAL_DIGITS = 6


def _dialled(text: list[str]) -> bool:
    """Whether every value is a number written with spaces as phones are: keys of a shape,
    not free text, whose words (each number's own) no row shares, so none was written.

    Example:
        >>> _dialled(["0490 73 65 40", "240-783-7630"]), _dialled(["12 5", "3 4"])
        (True, False)
    """
    return bool(text) and all(
        _DIAL.match(t) and sum(ch.isdigit() for ch in t) >= _DIAL_DIGITS for t in text
    )


def fill(col: Column, values: pd.Series, ev: Evidence) -> None:
    """The shape of the keys: integers (and their bounds), a uuid, or a pattern like AA-9999."""
    if ev.stripped is None:
        ints = values.tolist() if pd.api.types.is_integer_dtype(values.dtype) else None
    elif all(_INTEGER.match(t) for t in ev.stripped) and not numeric.zero_padded(ev.stripped):
        ints = [int(t) for t in ev.stripped]  # exact, also past 2**53 (`007`: a shape, below)
    else:
        ints = None
    if ints is not None and -_INT64 <= min(ints) and max(ints) < _INT64:
        col.pattern = "integer"
        col.min, col.max = int(min(ints)), int(max(ints))
    else:  # words, or integers too long for int64 (card numbers): new keys of the same shape
        col.pattern = shape_of(values.astype(str))


def fit(
    values: pd.Series,
    col: Column,
    rare_threshold: int = 0,
    counted: Counted | None = None,
) -> dict[str, Any]:
    state = {"has_nulls": has_nulls(values, counted), "typed": not is_text(values)}
    if col.pattern not in (None, "integer", "uuid"):  # keys drawn in the shape of real ones
        real = values[~null_mask(values)].astype(str).str.strip().unique()
        bits = hash_bits(len(real))
        state["taken_bits"] = bits
        state["taken"] = np.unique(key_hashes(real, bits)).tolist()
    return state


def key_hashes(keys: Any, bits: int) -> np.ndarray:
    """A `bits`-bit hash of each key as written (uint64).

    Example:
        >>> a, b, c = key_hashes(["AB123", "AB123", "ZZ999"], 12).tolist()
        >>> a == b == key_hashes(["AB123"], 12).tolist()[0], a != c, a < 2**12
        (True, True, True)
    """
    h = pd.util.hash_array(np.asarray(keys, dtype=object), categorize=False)
    return h >> np.uint64(64 - bits)


def check(state: dict[str, Any], where: str) -> None:
    """The real keys' hashes of a loaded state: `taken_bits` as `hash_bits` gives, sorted distinct
    hashes of that many bits (a crafted file is refused)."""
    if "taken" not in state:
        return
    stored_hashes(state["taken"], state.get("taken_bits"), f"{where} keys' hashes")


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return [Part(f"{name}{NULL_SUFFIX}", 2)] if state["has_nulls"] else []


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return [null_mask(values).astype(np.int64)] if state["has_nulls"] else []


def _permute(index: np.ndarray, radices: list[int], salt: int) -> np.ndarray:
    """Codes of the mixed-radix space of `radices` (the shape's alphabets), one per index and
    distinct for distinct indices, keyed by `salt`: a Feistel network of `_ROUNDS` rounds on
    the smallest even number of bits that holds the space, walked again (cycle walking) while
    a code falls past it, so that consecutive rows get unrelated keys (an affine map wrote them
    in steps: `FP007`, `LE014`, `KT021`). A space past 2**62 (a URL's shape): the network on
    its last digits, as many as 2**62 holds, and the digits before them from a hash of the
    index (they had all been the alphabet's first: `aaaa://aaa.aaaaaaaaa.aaa/...`).

    Example:
        >>> codes = _permute(np.arange(1000), [10, 10, 10], 7)
        >>> sorted(codes.tolist()) == list(range(1000)), codes[:3].tolist() != [7, 8, 9]
        (True, True)
    """
    low, k = 1, len(radices)
    while k and low * radices[k - 1] <= 2**62:
        low, k = low * radices[k - 1], k - 1
    codes = _walk(np.asarray(index, dtype=np.uint64), low, salt)
    if k == 0:
        return codes.astype(np.int64)
    high_space = math.prod(radices[:k])
    high = np.zeros(len(codes), dtype=object)
    h = np.asarray(index, dtype=np.uint64)
    for _ in range(high_space.bit_length() // 64 + 2):  # 64 bits of hash at a time
        with np.errstate(over="ignore"):
            h = _mix(h + _GOLDEN + np.uint64(salt % 2**64))
        high = high * 2**64 + h.astype(object)
    return (high % high_space) * low + codes.astype(object)


def _walk(codes: np.ndarray, space: int, salt: int) -> np.ndarray:
    """The Feistel network's bijection of [0, space) (see `_permute`), uint64."""
    half = max(1, (int(space - 1).bit_length() + 1) // 2)
    mask = np.uint64(2**half - 1)
    with np.errstate(over="ignore"):
        keys = _mix(np.uint64(salt % 2**64) + _GOLDEN * np.arange(1, _ROUNDS + 1, dtype=np.uint64))
    codes = codes % np.uint64(space)
    outside = np.ones(len(codes), dtype=bool)
    while outside.any():  # each walk maps a code past the space to the next one the network gives
        codes[outside] = _feistel(codes[outside], half, mask, keys)
        outside = codes >= np.uint64(space)
    return codes


def _feistel(codes: np.ndarray, half: int, mask: np.uint64, keys: np.ndarray) -> np.ndarray:
    """One pass of the network: a bijection of the codes of 2 * `half` bits."""
    shift = np.uint64(half)
    left, right = codes >> shift, codes & mask
    for key in keys:
        left, right = right, left ^ (_mix(right ^ key) & mask)
    return (left << shift) | right


def generate(
    col: Column, rows: RowRandom, taken: tuple[int, np.ndarray] | None = None
) -> np.ndarray:
    """New keys for rows `rows.start` .. `rows.start + rows.n - 1`; `taken`: the bits and sorted
    hashes of the real keys, which no text key drawn may have (see the module)."""
    start, n = rows.start, rows.n
    index = np.arange(start, start + n, dtype=np.int64)
    pattern = col.pattern or "integer"
    if pattern == "integer":
        base = int(col.max if col.max is not None else 0) + 1
        return base + index
    if pattern == "uuid":
        raw = (rows.uniform(32) * 16).astype(np.int64)
        raw[:, 12] = 4
        chars = np.ascontiguousarray(_HEX[raw])
        groups = [chars[:, a:b].copy().view(f"U{b - a}")[:, 0] for a, b in _UUID_GROUPS]
        out = groups[0]
        for group in groups[1:]:
            out = np.char.add(np.char.add(out, "-"), group)
        return out.astype(object)
    tokens = _tokens(pattern)
    alphabets = [t if not isinstance(t, str) else None for t in tokens]
    radices = [len(a) for a in alphabets if a is not None]
    space = math.prod(radices)
    # too few shapes for unique keys: widen with digits. Decided by the whole sample's size,
    # never the chunk's, so a row's key does not depend on how the sample is chunked.
    if space < 10 * rows.total:
        pattern = pattern + "9" * max(1, len(str(rows.total)))
        return generate(Column(name=col.name, kind="id", pattern=pattern), rows, taken)
    # the salt: the seed's hash (seed 0 would start every sample at AA-0000)
    with np.errstate(over="ignore"):
        mixed = _mix(np.array([rows.seed % 2**64], dtype=np.uint64) + _GOLDEN)[0]
    salt = int(mixed) % space
    out = _spelt(_permute(index, radices, salt), tokens)
    if taken is None or not len(taken[1]):
        return out
    bits, hashes = taken
    real = matches(key_hashes(out, bits), hashes)
    for attempt in range(1, KEY_TRIES + 1):
        if not real.any():
            return out
        # codes of indices past every row's earlier tries: unique whatever the chunking
        again = _permute(index[real] + attempt * rows.total, radices, salt)
        out[real] = _spelt(again, tokens)
        real[real] = matches(key_hashes(out[real], bits), hashes)
    if real.any():  # one digit longer than the shape: no key of the shape, and unique
        longer = Column(name=col.name, kind="id", pattern=pattern + "9")
        out[real] = generate(longer, rows, taken)[real]
    return out


def _spelt(codes: np.ndarray, tokens: list[Any]) -> np.ndarray:
    """Each code spelt in the shape's tokens (`_tokens`): its digits in the alphabets' mixed
    radix, the shape's literal characters kept."""
    out = np.full(len(codes), "", dtype=object)
    pieces = []
    for token in reversed(tokens):
        if isinstance(token, str):
            pieces.append(token)
            continue
        digit = (codes % len(token)).astype(np.int64)
        codes = codes // len(token)
        pieces.append(token[digit].astype(object))
    for piece in reversed(pieces):
        out = out + piece
    return out


def decode(
    arrays: list[np.ndarray],
    col: Column,
    state: dict[str, Any],
    rows: RowRandom,
    as_category: bool = False,
) -> pd.Series:
    taken = None
    if "taken" in state:
        taken = (int(state["taken_bits"]), np.array(state["taken"], dtype=np.uint64))
    keys = generate(col, rows, taken)
    missing = arrays[0].astype(bool) if state["has_nulls"] else np.zeros(rows.n, dtype=bool)
    if col.pattern == "integer":
        if state["typed"] or state["has_nulls"]:  # one dtype for every chunk
            return pd.Series(pd.arrays.IntegerArray(keys.astype(np.int64), missing))
        return pd.Series(keys.astype(np.int64))
    keys = keys.astype(object)
    keys[missing] = None
    return pd.Series(keys, dtype=object)


def written(
    parsed: np.ndarray, raw: pd.Series | None, col: Column, state: dict[str, Any]
) -> pd.Series:
    """Given integer keys as integers (as decoding writes them); other keys as given."""
    assert raw is not None
    if col.pattern == "integer":
        numbers = pd.to_numeric(raw.astype(str).str.strip(), errors="coerce")
        if numbers.notna().all() and (numbers % 1 == 0).all():
            return pd.Series(numbers.to_numpy(dtype=np.int64))
    return as_given(parsed, raw, col, state)


KIND = Kind(
    name="id",
    claims=claims,
    fill=fill,
    fit=fit,
    parts=parts,
    encode=encode,
    decode=decode,
    written=written,
    apart=True,
    private="made",
)
