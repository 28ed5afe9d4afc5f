"""Numeric columns: integers and floats, with their decimals, bounds and nulls.

Detected where every value is a number (typed, or text written as "1,234.5" or "1.234,5"), unless
integers are past int64. Encoded as one continuous part (nulls filled by draws from observed
values) plus, when the column has nulls, a discrete null indicator that takes part in the model's
dependence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from synthgen.columns.base import (
    NULL_SUFFIX,
    Column,
    Counted,
    Evidence,
    InRules,
    Kind,
    Part,
    RowRandom,
    as_source_dtype,
    fill_from_observed,
    has_nulls,
    is_text,
    protected_bounds,
    refill,
    seen_bounds,
)
from synthgen.errors import InputError, SchemaError, option


def to_float(values: pd.Series, col: Column | str) -> np.ndarray:
    """Numbers (or their text) as float64, NaN where null; a word among numbers is an error.

    Text is read the way the column writes numbers: pass the `Column` so that its thousands
    separator and decimal mark apply ("1,234.5", "1.234,5"); a bare name reads plain numbers.
    Each distinct text is parsed once.

    Example:
        >>> to_float(pd.Series(["1.234,5", None]), Column("x", "numeric", thousands=".", decimal=","))
        array([1234.5,    nan])
        >>> to_float(pd.Series([None, None], dtype=object), "x")
        array([nan, nan])
    """
    name = col if isinstance(col, str) else col.name
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64").to_numpy(na_value=np.nan)
    codes, uniques = pd.factorize(values.astype(object).to_numpy(), use_na_sentinel=True)

    def parse(text: Any) -> np.ndarray:
        if isinstance(col, str):
            return parse_numbers(text)
        return parse_numbers(text, thousands=col.thousands, decimal=col.decimal)

    # numbers among the objects stay numbers: a float through its text could move by one ulp.
    # A text with spaces around it, a sign ("$1,234.50", "12.5%") or parentheses ("(3.50)")
    # reads as the same number or not at all: only the texts that do not read are stripped
    # and read again (a Python loop over every text costs more)
    numbers = parse(uniques)
    bad = np.flatnonzero(np.isnan(numbers))
    if len(bad):
        again = [u.strip() if isinstance(u, str) else u for u in uniques[bad]]
        if not isinstance(col, str):
            again = [unaffixed(u, col.prefix, col.suffix) for u in again]
        numbers[bad] = parse(again)
        bad = bad[np.isnan(numbers[bad])]
    if len(bad):
        raise InputError(
            f"column {name!r} is numeric but has the value {uniques[bad[0]]!r}; fix that value, "
            f"or give the column another kind {option('in a --schema file', 'in the schema (schema=)')}"
        )
    return np.append(numbers, np.nan)[codes]  # code -1 (missing) takes the NaN at the end


def parse_numbers(
    text: list[Any], *, thousands: str | None = None, decimal: str | None = None
) -> np.ndarray:
    """Stripped number texts as floats (NaN where one is not a number), after dropping the
    thousands separator and reading `decimal` as the decimal mark; numbers pass as they are.

    Example:
        >>> parse_numbers(["1,234", "-5", "inf", "x"], thousands=",")
        array([1234.,   -5.,   inf,   nan])
    """
    if thousands:
        text = [t.replace(thousands, "") if isinstance(t, str) else t for t in text]
    if decimal and decimal != ".":
        text = [t.replace(decimal, ".") if isinstance(t, str) else t for t in text]
    if not len(text):
        return np.empty(0)
    return np.asarray(pd.to_numeric(np.asarray(text, dtype=object), errors="coerce"), dtype=float)


# Integers are decoded as int64; a column whose bounds lie outside is decoded as floats.
_INT64 = 2.0**63


# Numbers written with a thousands separator, keyed by (separator, decimal mark): "1,234.5" and
# "1.234,5". Each value must match, except that with "," separators a plain number ("12.5") is
# fine too. Plain numbers ("-1.5e3", "inf") are whatever pandas.to_numeric reads.
_GROUPED = {
    (",", None): re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"),
    (".", ","): re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"),
}


def read_numbers(
    text: list[str], decimal: str | None = None
) -> tuple[np.ndarray, str | None, str | None] | None:
    """(floats, thousands separator, decimal mark) when every stripped text is a number written
    one way; None when not. `decimal` "," tries "1.234,5" first, "." never tries it, None tries
    plain, then "1,234.5", then "1.234,5" (so "1,234" reads as 1234, and "1,5" as 1.5).

    Example:
        >>> read_numbers(["1,5", "12"])
        (array([ 1.5, 12. ]), None, ',')
    """
    plain = parse_numbers(text)
    styles: list[tuple[str | None, str | None]] = [(None, None), (",", None), (".", ",")]
    if decimal == ",":
        styles = [(".", ","), (None, None)]
    elif decimal == ".":
        styles = styles[:2]
    for thousands, mark in styles:
        if thousands is None:
            if not np.isnan(plain).any():
                return plain, None, None
            continue
        pattern = _GROUPED[(thousands, mark)]
        if mark is None:  # grouped, or plain without a comma
            ok = all(
                pattern.match(t) or ("," not in t and not np.isnan(x)) for t, x in zip(text, plain)
            )
        else:
            ok = all(pattern.match(t) for t in text)
        grouped = any(thousands in t for t in text)
        if ok and (grouped or any(mark in t for t in text if mark)):
            numbers = parse_numbers(text, thousands=thousands, decimal=mark)
            if not np.isnan(numbers).any():
                return numbers, thousands if grouped else None, mark
    return None


#: Signs a column of amounts writes before or after every number: a currency ("$1,234.50",
#: "12,50 €") or a percentage ("12.5%"). Read as numbers; synthetic values are written plain.
CURRENCIES = ("$", "€", "£", "¥", "₹")
_SUFFIXES = ("%", *CURRENCIES)
_SPACES = " \u00a0\u202f"  # (a plain, a no-break and a narrow no-break space)


def unaffixed(text: Any, prefix: str | None, suffix: str | None) -> Any:
    """`text` without the column's sign before (after a minus: "-$5") or after its number,
    and the space beside it, a negative in parentheses with a minus; other values as they are
    (a synthetic table's plain numbers).

    Example:
        >>> unaffixed("-$1,234.50", "$", None), unaffixed("12,5 %", None, "%"), unaffixed(7, "$", None)
        ('-1,234.50', '12,5', 7)
        >>> unaffixed("($1,234.50)", "$", None), unaffixed("(3)", None, None)
        ('-1,234.50', '-3')
    """
    if not isinstance(text, str):
        return text
    if text.startswith("(") and text.endswith(")"):  # an accountant's negative: "(1,234.50)"
        text = "-" + text[1:-1].strip()
    if prefix:
        sign = text[:1] if text[:1] in "+-" else ""
        rest = text[len(sign) :]
        if rest.startswith(prefix):
            text = sign + rest[len(prefix) :].lstrip(_SPACES)
    if suffix and text.endswith(suffix):
        text = text[: -len(suffix)].rstrip(_SPACES)
    return text


def _bracketed(text: Any) -> bool:
    """Whether some text is a number in parentheses (an accountant's negative)."""
    return any(isinstance(t, str) and t.startswith("(") for t in text)


def _plain(text: list[str], prefix: str | None, suffix: str | None) -> list[str]:
    """The texts as plain numbers are written (`unaffixed`); `text` itself where none has a
    sign or parentheses (no loop over a column's texts)."""
    if prefix or suffix or _bracketed(text):
        return [unaffixed(t, prefix, suffix) for t in text]
    return text


def affix(text: list[str]) -> tuple[str | None, str | None] | None:
    """The currency sign every text writes before its number (after a sign), or the
    currency or percent sign every text writes after it; None when there is none.

    Example:
        >>> affix(["$1.50", "-$2"]), affix(["12.5%", "3 %"]), affix(["$1", "2"])
        (('$', None), (None, '%'), None)
    """
    if not text:
        return None
    heads = {t[1:2] if t[:1] in "+-" else t[:1] for t in text}
    prefix = heads.pop() if len(heads) == 1 else None
    tails = {t[-1:] for t in text}
    suffix = tails.pop() if len(tails) == 1 else None
    prefix = prefix if prefix in CURRENCIES else None
    suffix = suffix if suffix in _SUFFIXES and not prefix else None
    return (prefix, suffix) if prefix or suffix else None


def read_affixed(
    text: list[str], decimal: str | None = None
) -> tuple[np.ndarray, str | None, str | None, str | None, str | None] | None:
    """`read_numbers` of texts that all write one currency or percent sign (`affix`), with
    that sign: (floats, thousands separator, decimal mark, prefix, suffix); without a sign
    (prefix and suffix None) as `read_numbers` reads them.

    Example:
        >>> read_affixed(["$1,234.50", "-$3"])[0].tolist(), read_affixed(["12,5 %", "3 %"])[2:]
        ([1234.5, -3.0], (',', None, '%'))
    """
    found = read_numbers(text, decimal)
    if found is not None:
        return (*found, None, None)
    if _bracketed(text):  # negatives in parentheses
        text = _plain(text, None, None)
        found = read_numbers(text, decimal)
        if found is not None:
            return (*found, None, None)
    signs = affix(text)
    if signs is None:
        return None
    found = read_numbers([unaffixed(t, *signs) for t in text], decimal)
    return None if found is None else (*found, *signs)


def _integer_decimals(
    text: list[str], numbers: np.ndarray, thousands: str | None, mark: str | None
) -> tuple[bool, int | None]:
    """Whether the numbers are whole (also "181.0", as pandas writes an int column with nulls),
    and the decimals they are written with (None: full precision, as for "1.5e-3")."""
    finite = np.isfinite(numbers)
    if not finite.any():
        return False, 0
    joined = "\n".join(text)
    if "e" in joined or "E" in joined:  # exponents: only finite texts can hold an e
        return False, _float_decimals(numbers[finite])
    x = numbers[finite]
    if (x == np.round(x)).all():
        return True, 0
    point = mark or "."
    # digits after the decimal mark (0 where there is none), without a Python loop per value
    lengths = np.fromiter(map(len, text), dtype=np.int64, count=len(text))
    where = np.fromiter(map(str.rfind, text, repeat(point)), dtype=np.int64, count=len(text))
    return False, int(np.where(where >= 0, lengths - where - 1, 0).max())


def _float_decimals(values: np.ndarray, limit: int = 8) -> int | None:
    """The fewest decimals that write every value exactly; None when floats need full precision.

    Exactly: within 10^-(d+6) (a float's noise, a float32's digits), and within a millionth of
    the column's scale (the median size of its non-zero values), so that a column of tiny values
    keeps them. Reaction rates of 6.36e-15 passed the first test at 0 decimals alone and were
    written as 0 (great_tables' reactions); a difference's 2.2e-16 among values of size 5 stays
    the noise it is.

    Example:
        >>> _float_decimals(np.array([6.36e-15, 8.5e-12, 0.0])) is None
        True
        >>> _float_decimals(np.array([1.25, 3.5, 2.2e-16])), _float_decimals(np.array([1e-3, 0.5]))
        (2, 3)
        >>> _float_decimals(np.array([0.1, 2.5], dtype=np.float32).astype(float))
        1
    """
    finite = values[np.isfinite(values)][:10000]
    size = np.abs(finite[finite != 0])
    scale = float(np.median(size)) if len(size) else 0.0
    for d in range(limit + 1):
        gap = np.abs(np.round(finite, d) - finite)
        if (gap <= 10.0 ** -(d + 6)).all() and (gap <= 1e-6 * scale).all():
            return d
    return None


def plain(value: Any) -> float | int:
    """A bound as JSON writes it best: an int when it is a whole number floats hold exactly.

    Example:
        >>> plain(3.0), plain(2.5), plain(2.0**60)
        (3, 2.5, 1.152921504606847e+18)
    """
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


class Reading(NamedTuple):
    """How a text column's values read as numbers (`numbers_of`)."""

    numbers: np.ndarray
    thousands: str | None
    decimal: str | None
    integer: bool
    prefix: str | None = None
    suffix: str | None = None


def _read(
    ev: Evidence, decimal: str | None = None
) -> tuple[np.ndarray, str | None, str | None, str | None, str | None] | None:
    """`read_affixed` of the stripped values under `decimal` (else the detection's mark, once
    per column)."""
    assert ev.stripped is not None
    if decimal is not None and decimal != ev.decimal:
        return read_affixed(ev.stripped, decimal)
    stripped = ev.stripped
    return ev.memo("numbers", lambda: read_affixed(stripped, ev.decimal))


def numbers_of(ev: Evidence) -> Reading | None:
    """How a text column's values read as numbers, when all do and some are finite; None when
    not (words, or only infinities). Dates and keys ask too (20240131 is a date, 1..n a key).

    Example:
        >>> numbers_of(Evidence(pd.Series(["1,234", "5"])))[1:4]
        (',', None, True)
    """

    def compute() -> Reading | None:
        found = _read(ev)
        if found is None or not np.isfinite(found[0]).any():
            return None
        numbers, thousands, mark, prefix, suffix = found
        assert ev.stripped is not None
        integer, _ = _integer_decimals(
            _plain(ev.stripped, prefix, suffix), numbers, thousands, mark
        )
        return Reading(numbers, thousands, mark, integer, prefix, suffix)

    return ev.memo("numbers_of", compute)


def holds(ev: Evidence) -> bool:
    """Whether a text column's values are numbers a numeric column can hold (integers within
    int64: longer ones are keys or categories, as card numbers are; codes of one width written
    with leading zeros are codes, `zero_padded`)."""
    found = numbers_of(ev)
    if found is None or (found.integer and np.abs(found.numbers).max() >= _INT64):
        return False
    return not (found.integer and ev.stripped is not None and zero_padded(ev.stripped))


def zero_padded(text: list[str]) -> bool:
    """Codes of one width written with leading zeros: digits alone, every value as wide, some
    starting with 0 (a provider number `030001`, a ZIP code `02134`, a FIPS code `01001`).
    Read as numbers they lost their zeros when written (`30001`) and took values between the
    real codes.

    Example:
        >>> zero_padded(["030001", "032003"]), zero_padded(["30001", "32003"]), zero_padded(["07", "7"])
        (True, False, False)
    """
    width = len(text[0]) if text else 0
    return (
        width > 1
        and all(len(t) == width and t.isdigit() for t in text)
        and any(t.startswith("0") for t in text)
    )


#: A text column of numbers but for a few words (`unknown`, `n.a.`) is named in a warning when
#: it holds at most this many such words, in at most this share of its rows.
_WORDS, _WORD_SHARE = 2, 0.2


def numbers_but_words(values: pd.Series) -> list[str]:
    """The words that alone keep a text column from being numbers (`unknown` among amounts):
    at most `_WORDS` distinct ones of two characters or more and no digit, in at most
    `_WORD_SHARE` of the filled rows, beside at least 10 distinct numbers; [] when the column
    is not such a one (or its first 2,000 rows hold no word, or more than `_WORDS`).

    Example:
        >>> numbers_but_words(pd.Series(["unknown"] + [str(i / 3) for i in range(30)]))
        ['unknown']
    """
    if not is_text(values):
        return []
    filled = values.dropna()
    head = pd.unique(filled.iloc[:2000].astype(str).str.strip())
    if not 0 < np.isnan(parse_numbers([unaffixed(t, None, None) for t in head])).sum() <= _WORDS:
        return []  # numbers, words or keys: told by the first 2,000 rows (millions, cheaply)
    counts = filled.astype(str).str.strip().value_counts()
    text = counts.index.tolist()
    x = parse_numbers([unaffixed(t, None, None) for t in text])
    words = [t for t, v in zip(text, x) if np.isnan(v)]
    if not 0 < len(words) <= _WORDS or len(text) - len(words) < 10:
        return []
    if any(len(w) < 2 or any(ch.isdigit() for ch in w) for w in words):  # (boats `C`, `D`)
        return []
    if counts[words].sum() > _WORD_SHARE * counts.sum():
        return []
    return words if read_affixed([t for t in text if t not in words]) is not None else []


def claims(ev: Evidence) -> bool:
    """Numbers: a numeric dtype, or text that all reads as numbers int64 can hold."""
    if ev.text is None:
        return pd.api.types.is_numeric_dtype(ev.values.dtype)
    return holds(ev)


def fill(col: Column, values: pd.Series, ev: Evidence) -> None:
    """Integer or not, decimals, thousands separator and decimal mark, bounds."""
    if ev.stripped is not None:
        found = _read(ev, col.decimal)
        if found is None:
            bad = ev.stripped[int(np.flatnonzero(np.isnan(parse_numbers(ev.stripped)))[0])]
            raise SchemaError(
                f"column {col.name!r} is numeric but has the value {bad!r}; fix that value, "
                f"or give the column another kind {option('in a --schema file', 'in the schema (schema=)')}"
            )
        numbers, col.thousands, col.decimal, col.prefix, col.suffix = found
        text = _plain(ev.stripped, col.prefix, col.suffix)
        col.integer, col.decimals = _integer_decimals(text, numbers, col.thousands, col.decimal)
        if ev.codes is not None:  # `to_float` reads each text as `numbers` has it
            ev.read = numbers[ev.codes]
    else:
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        col.integer = bool(pd.api.types.is_integer_dtype(values.dtype))
        col.decimals = 0 if col.integer else _float_decimals(numbers)
    finite = numbers[np.isfinite(numbers)]
    if col.integer and len(finite) and np.abs(finite).max() >= _INT64:
        col.integer = False  # decoded as floats: int64 can't hold them
    if len(finite):
        col.min, col.max = plain(finite.min()), plain(finite.max())
    if col.integer and len(finite) and np.abs(finite).max() >= 2**53:
        col.min, col.max = _exact_bounds(col, values, ev.stripped, np.isfinite(numbers))


def _exact_bounds(
    col: Column, values: pd.Series, stripped: list[str] | None, finite: np.ndarray
) -> tuple[int, int]:
    """Integer bounds exactly: past 2**53, floats skip integers (and would let a sample pass
    the real maximum by one)."""
    if stripped is None:
        ints = values.to_numpy(dtype=np.int64)
        return int(ints.min()), int(ints.max())
    written = [unaffixed(t, col.prefix, col.suffix) for t, ok in zip(stripped, finite) if ok]
    if col.thousands:
        written = [t.replace(col.thousands, "") for t in written]
    ints = [int(t.partition(col.decimal or ".")[0]) for t in written]  # "181.0" is 181
    return min(ints), max(ints)


def refine(col: Column, counted: Counted) -> None:
    """The facts again from every distinct value, when the pass counted them all; else from
    what it counted of the numbers (bounds, whole or not), which a word among them refutes."""
    if refill(fill, col, counted):
        return
    if counted.word is not None:
        raise SchemaError(
            f"column {col.name!r} holds numbers in the rows sampled but also {counted.word!r}; "
            f"give its kind {option('in a --schema file', 'in the schema (schema=)')} (e.g. "
            "categorical)"
        )
    if np.isfinite(counted.low):
        col.min = plain(min(counted.low, col.min if col.min is not None else np.inf))
        col.max = plain(max(counted.high, col.max if col.max is not None else -np.inf))
    if col.integer and not counted.integer:
        col.integer, col.decimals = False, None  # decimals unknown: keep full precision


def _float_within(bound: float | int, up: bool) -> float:
    """`bound` as a float on its inner side: past 2**53 floats skip integers, and the nearest
    float to a column's largest integer may be larger than it.

    Example:
        >>> _float_within(2**54 - 1, up=False) <= 2**54 - 1 < float(2**54 - 1)
        True
    """
    x = float(bound)
    if up and x < bound:
        return float(np.nextafter(x, np.inf))
    if not up and x > bound:
        return float(np.nextafter(x, -np.inf))
    return x


def fit(
    values: pd.Series,
    col: Column,
    rare_threshold: int = 0,
    counted: Counted | None = None,
) -> dict[str, Any]:
    lo, hi = col.min, col.max
    finite = None
    if lo is None or hi is None or rare_threshold > 1:
        x = to_float(values, col)
        finite = x[np.isfinite(x)]
    if lo is None or hi is None:  # a schema without bounds (or no finite value): from the data
        lo = finite.min() if lo is None and len(finite) else lo or 0
        hi = finite.max() if hi is None and len(finite) else hi or 0
    seen = _float_within(lo, up=True), _float_within(hi, up=False)
    lo, hi = seen if finite is None else protected_bounds(finite, *seen, rare_threshold)
    return {
        "integer": bool(col.integer) and -_INT64 <= lo and hi < _INT64,
        "decimals": col.decimals,
        "min": lo,
        "max": hi,
        "has_nulls": has_nulls(values, counted),
    } | seen_bounds(seen, lo, hi)


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return continuous_parts(name, state)


def continuous_parts(name: str, state: dict[str, Any]) -> list[Part]:
    """A continuous part, and a null indicator when the column had nulls (shared with datetime)."""
    out = [Part(name)]
    if state["has_nulls"]:
        out.append(Part(f"{name}{NULL_SUFFIX}", 2))
    return out


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return encode_continuous(to_float(values, col), state, rng)


def encode_continuous(x: np.ndarray, state: dict[str, Any], rng: np.random.Generator) -> list:
    missing = np.isnan(x)
    # inf has no place in a marginal; it is treated as the nearest bound
    x = np.clip(x, state["min"], state["max"])
    out: list[np.ndarray] = [fill_from_observed(x, missing, rng)]
    if state["has_nulls"]:
        out.append(missing.astype(np.int64))
    return out


def decode_continuous(
    arrays: list[np.ndarray], state: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """The clipped values (a new array) and the null mask (shared with datetime)."""
    x = np.maximum(np.asarray(arrays[0], dtype=float), state["min"])
    np.minimum(x, state["max"], out=x)
    missing = arrays[1].astype(bool) if state["has_nulls"] else np.zeros(len(x), dtype=bool)
    return x, missing


def decode(
    arrays: list[np.ndarray],
    col: Column,
    state: dict[str, Any],
    rows: RowRandom,
    as_category: bool = False,
) -> pd.Series:
    x, missing = decode_continuous(arrays, state)
    if state["integer"]:
        ints = np.rint(x, out=x).astype(np.int64)
        if state["has_nulls"]:  # one dtype for every chunk, drawn nulls or not
            return pd.Series(pd.arrays.IntegerArray(ints, missing))
        return pd.Series(ints)
    if state["decimals"] is not None:
        x = np.round(x, state["decimals"])
    x[missing] = np.nan
    return pd.Series(x)


def parse_values(values: pd.Series, col: Column, state: dict[str, Any]) -> np.ndarray:
    """Given values (a condition's, or cells of rows to fill) as floats, NaN where missing."""
    return to_float(values, col.name)


def grid(state: dict[str, Any]) -> float:
    """The spacing of the values decoding writes (1 for integers, 0.01 for 2 decimals); 0 when
    any float can come out."""
    if state["integer"]:
        return 1.0
    return 10.0 ** -state["decimals"] if state["decimals"] is not None else 0.0


def typed(values: pd.Series, col: Column) -> pd.Series:
    """Int64 for an integer column (within 2**53), else float64; NaN or NA for null."""
    x = to_float(values, col)
    finite = x[np.isfinite(x)]
    exact = not len(finite) or np.abs(finite).max() < 2**53
    if col.integer and exact and np.array_equal(finite, np.round(finite)):
        missing = ~np.isfinite(x)
        ints = np.where(missing, 0, x).astype(np.int64)
        out = pd.arrays.IntegerArray(ints, missing)
        return pd.Series(out, index=values.index, name=values.name)
    return pd.Series(x, index=values.index, name=values.name)


def compared(values: pd.Series, col: Column) -> tuple[np.ndarray, bool]:
    """Floats as the report compares them (an infinity, which no histogram holds, as null)."""
    text = is_text(values)
    if text:  # parse each distinct text once: most numeric columns repeat their values
        codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
        parsed = to_float(pd.Series(uniques, dtype=object), col)
        x = np.append(parsed, np.nan)[codes]  # code -1 (null) takes the NaN at the end
    else:
        x = to_float(values, col)
    return np.where(np.isinf(x), np.nan, x), text


def written(
    parsed: np.ndarray, raw: pd.Series | None, col: Column, state: dict[str, Any]
) -> pd.Series:
    """Numbers as decoding writes them: a whole number of an integer column as an int; given
    cells (`raw`) with all their decimals."""
    whole = bool(state["integer"]) and bool(np.all(parsed == np.round(parsed)))
    decimals = None if raw is not None else state["decimals"]
    return decode_exactly(decode, parsed, col, state, integer=whole, decimals=decimals)


def decode_exactly(
    decode: Callable[..., pd.Series],
    parsed: np.ndarray,
    col: Column,
    state: dict[str, Any],
    **changes: Any,
) -> pd.Series:
    """Values of a continuous part decoded as they are (not clipped to the bounds, no nulls,
    `changes` to the state), in the column's dtype: how a condition's values are written."""
    exact = {**state, "has_nulls": False, "min": -math.inf, "max": math.inf, **changes}
    return as_source_dtype(decode([parsed], col, exact, RowRandom(0, 0, len(parsed))), col)


KIND = Kind(
    name="numeric",
    claims=claims,
    fill=fill,
    refine=refine,
    fit=fit,
    parts=parts,
    encode=encode,
    decode=decode,
    exact_from_counts=True,
    typed=typed,
    parse=parse_values,
    grid=grid,
    written=written,
    shape="continuous",
    compared=compared,
    rules=InRules("amount", values=to_float),
    private="number",
    sdtype="numerical",
)
