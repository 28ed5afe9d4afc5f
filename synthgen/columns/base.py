"""The ground floor of the column kinds: `Column` (one column's kind and facts), the `Kind` record
every kind module fills in, the registry of kinds, what detection looks at (`Evidence`), and what
every kind shares (the encoded parts a model sees, the null indicator, row-numbered randomness).

A column is encoded into zero or more *parts*. A continuous part is a float array without NaN; a
discrete part is an int array of codes in [0, cardinality). Every model works on parts only, so a
new column kind needs no model changes, and a new model needs no column changes.

Nothing here imports a kind or the schema: the kinds sit on this floor, the schema above them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from synthgen.errors import SchemaError

#: The name of a column's null indicator part is the column's name and this.
NULL_SUFFIX = "\x1fnull"


@dataclass(frozen=True)
class Part:
    """One encoded feature: `cardinality` is None for a continuous part."""

    name: str
    cardinality: int | None = None

    @property
    def continuous(self) -> bool:
        return self.cardinality is None


def null_mask(values) -> np.ndarray:
    """True where a value is missing (None, NaN, NaT, pd.NA)."""
    return np.asarray(pd.isna(values), dtype=bool)


def fill_from_observed(x: np.ndarray, missing: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replace missing entries by draws from the observed ones, so the marginal stays intact."""
    if not missing.any():
        return x
    x = x.copy()
    observed = x[~missing]
    x[missing] = rng.choice(observed, size=int(missing.sum())) if len(observed) else 0.0
    return x


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a well-spread 64-bit hash of each entry."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


#: A stored row hash has ceil(log2(rows)) + this many bits: it matches about one possible row
#: in 8 to 16, so that it names none.
HASH_SLACK = 3


def hash_bits(rows: int) -> int:
    """The bits of the hashes stored of `rows` training rows.

    Example:
        >>> hash_bits(200)
        11
    """
    return int(np.ceil(np.log2(max(rows, 2)))) + HASH_SLACK


def hash_bits_valid(bits: object) -> bool:
    """Whether a model file's hash width is one `hash_bits` can give: an integer (not a bool)
    above `HASH_SLACK` and at most 64."""
    return not isinstance(bits, bool) and isinstance(bits, int) and HASH_SLACK < bits <= 64


def check_hashes(hashes: np.ndarray, bits: int, what: str = "row hashes") -> None:
    """Refuse stored hashes (uint64) that are not sorted, distinct `bits`-bit values (a crafted
    or damaged model file)."""
    top = np.uint64(2**bits - 1) if bits < 64 else None
    if (hashes[1:] <= hashes[:-1]).any() or (top is not None and len(hashes) and hashes[-1] > top):
        raise ValueError(f"the {what} are not sorted {bits}-bit hashes")


def stored_hashes(hashes: Any, bits: Any, what: str) -> np.ndarray:
    """A loaded state's short hashes (`what` names them in messages): `bits` as `hash_bits`
    gives, and a list of sorted distinct integers of that many bits; a crafted or damaged
    model file is refused (ValueError)."""
    if not hash_bits_valid(bits):
        raise ValueError(f"{what} of {bits!r} bits")
    if not isinstance(hashes, list) or not all(
        isinstance(h, int) and not isinstance(h, bool) and 0 <= h < 2**64 for h in hashes
    ):
        raise ValueError(f"{what} must be a list of integers")
    out = np.array(hashes, dtype=np.uint64)
    check_hashes(out, bits, what)
    return out


def matches(hashes: np.ndarray, sorted_hashes: np.ndarray) -> np.ndarray:
    """Whether each of `hashes` is among `sorted_hashes`."""
    if not len(sorted_hashes):
        return np.zeros(len(hashes), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_hashes, hashes), len(sorted_hashes) - 1)
    return sorted_hashes[at] == hashes


class RowRandom:
    """Random numbers tied to row numbers: row i gets the same draws however rows are chunked.

    Decoding uses these (not a sequential generator) so a chunk of rows can be decoded at once
    and still match the same rows decoded in any other chunking.

    Example:
        >>> a = RowRandom(seed=7, start=0, n=10).uniform()
        >>> b = RowRandom(seed=7, start=5, n=5).uniform()
        >>> bool((a[5:] == b).all())
        True
    """

    def __init__(self, seed: int, start: int, n: int, key: int = 0, total: int | None = None):
        self.seed, self.start, self.n, self.key = int(seed), int(start), int(n), int(key)
        # rows in the whole sample these rows belong to (a chunk's rows are only part of it)
        self.total = self.start + self.n if total is None else int(total)
        self._index: np.ndarray | None = None  # set by `take`: only these rows (offsets)

    def child(self, key: int) -> RowRandom:
        """An independent stream for one column (or one use inside a column)."""
        # Python ints, wrapped to 64 bits: a child's key times 1_000_003 is past uint64
        base = _mix(np.array([(self.key * 1_000_003 + key + 1) % 2**64], dtype=np.uint64))[0]
        out = RowRandom(self.seed, self.start, self.n, int(base % np.uint64(2**62)), self.total)
        out._index = self._index
        return out

    def take(self, index: np.ndarray) -> RowRandom:
        """The same draws for only the rows at offsets `index` (a few rows of a big chunk), of
        the rows these draws are for (those taken already, if any).

        Example:
            >>> rows = RowRandom(seed=7, start=0, n=10)
            >>> bool((rows.take(np.array([2, 5])).uniform() == rows.uniform()[[2, 5]]).all())
            True
            >>> bool((rows.take(np.array([2, 5])).take(np.array([1])).uniform()
            ...       == rows.uniform()[[5]]).all())
            True
        """
        out = RowRandom(self.seed, self.start, self.n, self.key, self.total)
        index = np.asarray(index, dtype=np.int64)
        out._index = index if self._index is None else self._index[index]
        return out

    @property
    def size(self) -> int:
        """The rows these draws are for: `n`, or those taken."""
        return self.n if self._index is None else len(self._index)

    def uniform(self, width: int | None = None) -> np.ndarray:
        """Uniform draws in [0, 1): shape (n,) or (n, width) (n: the rows taken, if any)."""
        cols = 1 if width is None else width
        if self._index is None:
            rows = np.arange(self.start, self.start + self.n, dtype=np.uint64)[:, None]
        else:
            rows = (self._index + self.start).astype(np.uint64)[:, None]
        lanes = np.arange(cols, dtype=np.uint64)[None, :]
        with np.errstate(over="ignore"):
            salt = _mix(np.array([(self.seed * 2654435761 + self.key) % 2**64], np.uint64))[0]
            x = _mix(rows * _GOLDEN + lanes * np.uint64(0xD6E8FEB86659FD93) + salt)
        u = (x >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
        return u[:, 0] if width is None else u

    def choice(self, probabilities, width: int | None = None) -> np.ndarray:
        """Indices drawn with the given probabilities."""
        cum = np.cumsum(np.asarray(probabilities, dtype=float))
        cum /= cum[-1]
        return np.minimum(np.searchsorted(cum, self.uniform(width), side="right"), len(cum) - 1)


def is_text(values: pd.Series) -> bool:
    """True for values held as text (object or string dtype), as a CSV reads them."""
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def as_keys(values: pd.Series) -> pd.Series:
    """Values as comparable keys: typed values stay typed, text stays exactly as written, None
    for null.

    Example:
        >>> as_keys(pd.Series(["a", None, float("nan")])).tolist()
        ['a', None, None]
    """
    return values.astype(object).where(values.notna(), None)


class Counted(Protocol):
    """What one pass over a whole table counted of one column, as kinds read it (the pass is
    `synthgen.stream`'s; its `ColumnStats` is one): nulls, each distinct value's rows (None when
    there were too many), and, past that, the bounds of the values that read as numbers, whether
    all were whole, and the first word among them."""

    nulls: int
    counts: pd.Series | None
    low: float
    high: float
    integer: bool
    word: Any

    def distinct(self) -> pd.Series | None:
        """The distinct non-null values, if they were all counted."""
        ...


def has_nulls(values: pd.Series, counted: Counted | None) -> bool:
    """Whether a column has nulls: in `values`, or in the whole table a pass `counted` over (nulls
    too rare to be in a sample still get their share of the output)."""
    return bool(null_mask(values).any()) or (counted is not None and counted.nulls > 0)


def protected_bounds(
    finite: np.ndarray,
    low: float,
    high: float,
    rare_threshold: int,
    rows: np.ndarray | None = None,
) -> tuple[float, float]:
    """A continuous column's bounds with its extremes protected: no bound beyond the value that
    `rare_threshold` rows reach (the k-th smallest and k-th largest of the `finite` training
    values), within the given `low` and `high`. A value beyond lies with fewer than k rows, the
    number's rare value: the richest household, the one diamond of 58.9 mm. The model learns the
    rows beyond as at the bound (top- and bottom-coding, as statistical agencies release
    microdata and MOSTLY AI's engine bounds numbers) and writes nothing past it. Where the two
    cross (fewer than 2k - 1 values) both are the middle value. `rare_threshold` below 2 keeps
    `low` and `high`. `rows`: each value's rows, where `finite` holds distinct values (a whole
    table's counts).

    Example:
        >>> x = np.r_[np.arange(100.0), 10_000.0]  # one row far above the rest
        >>> protected_bounds(x, 0.0, 10_000.0, 5)
        (4.0, 96.0)
        >>> protected_bounds(np.array([3.0, 1.0, 2.0]), 1.0, 3.0, 5)
        (2.0, 2.0)
    """
    k = int(rare_threshold)
    if k < 2 or not len(finite):
        return low, high
    if rows is not None:  # distinct values and their rows: the k-th from each end by rows
        order = np.argsort(finite)
        ranks = np.cumsum(rows[order])
        total = ranks[-1]
        if total < 2 * k - 1:
            middle = finite[order][np.searchsorted(ranks, (total + 1) / 2)]
            return float(middle), float(middle)
        at = finite[order][np.searchsorted(ranks, [k, total - k + 1])]
        return max(low, float(at[0])), min(high, float(at[1]))
    if len(finite) < 2 * k - 1:
        middle = float(np.partition(finite, len(finite) // 2)[len(finite) // 2])
        return middle, middle
    ends = np.partition(finite, (k - 1, len(finite) - k))
    return max(low, float(ends[k - 1])), min(high, float(ends[len(finite) - k]))


def seen_range(state: dict[str, Any]) -> tuple[float, float]:
    """A continuous state's training range, extremes and all (its bounds where none is kept)."""
    low, high = state.get("seen", (state["min"], state["max"]))
    return float(low), float(high)


@contextmanager
def as_seen(states: list[dict[str, Any]]) -> Iterator[None]:
    """Within: each continuous state's bounds are its training range, extremes and all (rows to
    fill whose given cells are among them are checked, solved and decoded as given)."""
    swapped = {id(s): (s, s["min"], s["max"]) for s in states if "seen" in s}  # each once
    for s, _, _ in swapped.values():
        s["min"], s["max"] = (float(v) for v in s["seen"])
    try:
        yield
    finally:
        for s, low, high in swapped.values():
            s["min"], s["max"] = low, high


def seen_bounds(seen: tuple[float, float], low: float, high: float) -> dict[str, list[float]]:
    """A continuous state's `seen` entry: the training values' bounds where they reach past the
    written `low` and `high` (conditions and given cells are checked against them), else none."""
    return {"seen": [float(seen[0]), float(seen[1])]} if (low, high) != tuple(seen) else {}


# ---- the column ---------------------------------------------------------------------------------


@dataclass
class Column:
    """One column's kind and the facts needed to write its values back as they were written.

    Only the fields that matter for a kind are set; the rest stay None.

    Example:
        >>> Column.from_dict({"name": "age", "kind": "numeric", "integer": True}).to_dict()
        {'name': 'age', 'kind': 'numeric', 'null_rate': 0.0, 'integer': True}
    """

    name: str
    kind: str
    null_rate: float = 0.0
    # numeric
    integer: bool | None = None
    decimals: int | None = None
    thousands: str | None = None  # separator as written ("1,234": ","); None when not used
    decimal: str | None = None  # decimal mark when it is not "." ("1,5": ",")
    prefix: str | None = None  # a currency sign written before each number ("$1,234.50": "$")
    suffix: str | None = None  # ... or after it ("12.5%": "%", "3,50 €": "€")
    min: float | None = None
    max: float | None = None
    # categorical: an explicit order (ordered categories); detected categories live in the model
    categories: list[Any] | None = None
    ordered: bool | None = None
    # boolean: how true and false are written ("True"/"False", "yes"/"no", ...)
    true_value: Any = None
    false_value: Any = None
    # datetime: strftime format as written (None when the input was a datetime dtype), timezone
    format: str | None = None
    timezone: str | None = None
    # id: the shape of the keys ("integer", or a pattern such as "AAA-999")
    pattern: str | None = None
    # constant
    value: Any = None
    # what the input looked like: "text" when read from text (CSV), else the pandas dtype name
    source_dtype: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Column:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SchemaError(
                f"unknown schema field(s) {sorted(unknown)} in column {data.get('name')!r}"
            )
        if "name" not in data or "kind" not in data:
            raise SchemaError(f"every schema column needs 'name' and 'kind': {data}")
        if data["kind"] not in KINDS:
            raise SchemaError(
                f"column {data['name']!r}: unknown kind {data['kind']!r}; use one of {', '.join(KINDS)}"
            )
        return cls(**data)

    def take(self, given: Column) -> None:
        """Take every fact `given` sets (a user's override of a detected column), except its
        null rate, which is always measured."""
        for f in fields(Column):
            value = getattr(given, f.name)
            if value is not None and f.name != "null_rate":
                setattr(self, f.name, value)


def as_source_dtype(values: pd.Series, col: Column) -> pd.Series:
    """Decoded values in the dtype the column came in, for a typed input (an int64 constant,
    datetime64[ns] dates, a nullable boolean); text input keeps what decoding gives.

    Example:
        >>> as_source_dtype(pd.Series([7, 7], dtype=object), Column("x", "constant", source_dtype="int64")).dtype
        dtype('int64')
    """
    source = col.source_dtype
    if source in (None, "text") or str(values.dtype) == source:
        return values
    try:
        return values.astype(source)
    except (TypeError, ValueError, OverflowError):
        return values  # a dtype that can't hold them: the decoded values are still right


# ---- what detection looks at --------------------------------------------------------------------

# Text that is neither numbers nor dates: its distinct values are "few" up to this many, or up to
# this share of its rows (then categories)...
_FEW_VALUES = 20
_FEW_SHARE = 0.5
# ...and a value seen in fewer rows than this is rare (the default rare-category threshold).
RARE_ROWS = 5
# Short labels that repeat: shorter than this on average, and fewer distinct than this share of rows.
_SHORT_LABEL = 40
_REPEAT_SHARE = 0.9
# A value longer than this is prose, not a key.
_LONG_VALUE = 64
_SPACE = re.compile(r"\s")


class Evidence:
    """What detection looks at in one column's non-null values: each fact is worked out once, and
    only when a kind asks for it (a 32k-row text column often has a few dozen distinct values, and
    most columns are claimed before the costly facts are needed).

    Example:
        >>> ev = Evidence(pd.Series(["a b", " c", "a b"], name="x"))
        >>> ev.text, ev.stripped, ev.n_unique, ev.has_space
        (['a b', ' c'], ['a b', 'c'], 2, True)
    """

    def __init__(self, values: pd.Series, decimal: str | None = None):
        self.name = str(values.name)
        self.values = values
        #: the decimal mark numbers written as text are read with (None: detected per column)
        self.decimal = decimal
        #: the distinct values as text, as written and stripped (None for typed values)
        self.text: list[str] | None = None
        self.stripped: list[str] | None = None
        #: per value, the number of its distinct text in `text` (None for typed values)
        self.codes: np.ndarray | None = None
        if is_text(values):
            self.codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
            self.text = [str(v) for v in uniques]
            self.stripped = [t.strip() for t in self.text]
        #: per value, what the rules read it as (`InRules.values`: a number, an instant's
        #: seconds), when the kind's `fill` worked that out on its way; else None
        self.read: np.ndarray | None = None
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()`, worked out once per column (kinds share what they read: numbers)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def n_unique(self) -> int:
        return self.memo(
            "n_unique", lambda: len(self.text) if self.text is not None else self.values.nunique()
        )

    @property
    def has_space(self) -> bool:
        """Some value has a space inside or around it."""
        return self.memo("has_space", lambda: any(map(_SPACE.search, self.text or [])))

    @property
    def mostly_one_offs(self) -> bool:
        """More than `_FEW_VALUES` distinct values, and most rows hold one seen in fewer than
        `RARE_ROWS` rows: keys or free text, not categories."""

        def compute() -> bool:
            if self.n_unique <= _FEW_VALUES:
                return False
            codes = pd.factorize(self.values.to_numpy(dtype=object))[0]
            counts = np.bincount(codes[codes >= 0])
            return bool(counts[counts < RARE_ROWS].sum() > 0.5 * len(self.values))

        return self.memo("mostly_one_offs", compute)

    @property
    def repeats(self) -> bool:
        """The values repeat as categories do: few distinct ones (at most `_FEW_VALUES`, or
        `_FEW_SHARE` of the rows), or short labels fewer than `_REPEAT_SHARE` of the rows."""
        if self.n_unique <= max(_FEW_VALUES, _FEW_SHARE * len(self.values)):
            return True
        return (
            self.n_unique < len(self.values) * _REPEAT_SHARE and self._lengths.mean() < _SHORT_LABEL
        )

    @property
    def long(self) -> bool:
        """Some value is longer than `_LONG_VALUE` characters."""
        return bool(self._lengths.max() > _LONG_VALUE)

    @property
    def _lengths(self) -> np.ndarray:
        text = self.text or []
        return self.memo(
            "lengths", lambda: np.fromiter(map(len, text), dtype=np.int64, count=len(text))
        )


# ---- the kind record and the registry -----------------------------------------------------------


def _nothing(*args: Any) -> None:
    return None


def _unchanged(values: pd.Series, col: Column) -> pd.Series:
    return values


def _no_classes(col: Column, state: dict[str, Any]) -> list[Any]:
    return []


def _no_grid(state: dict[str, Any]) -> float:
    return 0.0


def _unsettled(x: np.ndarray, state: dict[str, Any], side: int = 0) -> np.ndarray:
    return x


def _number(value: float) -> str:
    return f"{value:g}"


def _keys(values: pd.Series, col: Column) -> tuple[np.ndarray, bool]:
    return as_keys(values).to_numpy(dtype=object), is_text(values)


def as_given(
    parsed: np.ndarray, raw: pd.Series | None, col: Column, state: dict[str, Any]
) -> pd.Series:
    """Given values written as they were given (what `Kind.written` does by default)."""
    assert raw is not None
    return pd.Series(raw.to_numpy(dtype=object), dtype=object)


@dataclass(frozen=True)
class InRules:
    """What the rules (synthgen.rules) may ask of a kind's columns, and how they read its values.

    `role` says which rules may name it: "amount" (numbers that identities, orders and monotone
    pairs compare, and a dependency may target), "time" (instants that an order compares with
    another instant), "label" (a few values that dependencies, combinations and missing values
    hang on) or "single" (one value: a declared combination may name it, discovery passes it by).

    Example:
        >>> InRules("label").role, InRules("amount").values is None
        ('label', True)
    """

    role: Literal["amount", "time", "label", "single"]
    values: Callable[[pd.Series, Column], np.ndarray] | None = None
    """(values, col) -> the values as the rules compare them: floats (NaN for null; instants as
    seconds since 1970) for an amount or a time, else keys the same however the table spells
    them (None for null); None: keys as written (a typed value as its text)."""
    value: Callable[[Any, Column], Any] | None = None
    """(a rule's value, as JSON holds it, col) -> that value as `values` writes it; None: a
    float for an amount or a time, else its text."""


@dataclass(frozen=True, kw_only=True)
class Kind:
    """One column kind: the functions of its module that the rest of synthgen loops over.

    A kind is a module of plain functions (mostlyai-engine's shape: each is tested alone) closed by
    one `Kind` record of them; the record is the one interface that schema detection, the table
    encoder, conditions, typed output, the report and the SDV adapter ask, and its defaults spare
    a kind the stubs for what it lacks (a rare code, a grid). A new kind is a module in
    synthgen/columns and one entry in `synthgen.columns.KINDS`; tests/test_columns.py then tests it.

    `state` is what the kind's `fit` learnt (JSON-able, kept in the model file); a kind with a
    continuous part keeps its bounds there as "min" and "max".
    """

    name: str

    # -- detection (synthgen.schema): kinds are asked in registry order; the first claims the column
    claims: Callable[[Evidence], bool]
    """Whether a column's non-null values look like this kind (earlier kinds said no)."""
    fill: Callable[[Column, pd.Series, Evidence], None] = _nothing
    """Fill in the column's facts (bounds, format, spelling) from its non-null values."""
    refine: Callable[[Column, Counted], None] = _nothing
    """Correct facts found on a sample with what one pass counted over the whole table."""

    # -- encoding (synthgen.columns.TableEncoder)
    fit: Callable[..., dict[str, Any]]
    """(values, col, rare_threshold=0, counted=None) -> state; `counted`: what a pass counted
    over the whole table `values` are a sample of (nulls and frequencies then come from it)."""
    parts: Callable[[str, dict[str, Any]], list[Part]]
    """(column name, state) -> the encoded parts; the part named as the column is its value."""
    encode: Callable[[pd.Series, Column, dict[str, Any], np.random.Generator], list[np.ndarray]]
    """One array per part."""
    decode: Callable[..., pd.Series]
    """(arrays, col, state, rows: RowRandom, as_category=False) -> values; `as_category` asks
    for a pandas Categorical where the kind can make one (few values: faster to build)."""
    exact_from_counts: bool = False
    """Its parts are a function of the value: a pass's counts of distinct values give them
    exactly (`TableEncoder.exact_marginals`)."""
    typed: Callable[[pd.Series, Column], pd.Series] = _unchanged
    """The values in their natural pandas dtype (see synthgen.columns.typed)."""

    # -- conditions (synthgen.conditions)
    parse: Callable[[pd.Series, Column, dict[str, Any]], np.ndarray] | None = None
    """Given values (a condition's, cells of rows to fill) as the value part holds them: floats
    (NaN where missing), or codes (-1 not a code the model can write, -2 missing)."""
    null_code: Callable[[dict[str, Any]], int | None] = _nothing
    """The value part's code for null, if it has one."""
    rare_code: Callable[[dict[str, Any]], int | None] = _nothing
    """The value part's code for the pool of rare values, if it has one."""
    classes: Callable[[Column, dict[str, Any]], list[Any]] = _no_classes
    """The values that codes 0, 1, ... write (what `--balance` asks for)."""
    choices: Callable[[Column], str | None] = _nothing
    """How to write its values when only these few exist ("yes or no"): any other value is a
    mistake, never an unseen value; None when any value may be asked."""
    grid: Callable[[dict[str, Any]], float] = _no_grid
    """The spacing of the values decoding writes (1 for integers); 0 for any float."""
    settle: Callable[..., np.ndarray] = _unsettled
    """(values on the grid, state, side=0) -> where decoding moves them past the grid (a date
    of a monthly series to its month's first day: the nearest such value, or with `side` 1 or
    -1 the nearest at or above, at or below); as they are for most kinds."""
    show: Callable[[float], str] = _number
    """A value of the continuous part as a message shows it."""
    written: Callable[[np.ndarray, pd.Series | None, Column, dict[str, Any]], pd.Series] = as_given
    """(parsed, raw, col, state) -> the values as decoding would write them (types, format),
    from parsed ones; where the output is text and `raw` is given, `raw` as given."""
    apart: bool = False
    """Generated apart from the model (new keys, free text): no condition can ask for its
    values. A kind without a value part that is not apart holds one value (constant)."""

    # -- the report (synthgen.report)
    shape: Literal["continuous", "discrete"] | None = None
    """How the report compares it, as SDMetrics does; None: left out (keys, free text)."""
    compared: Callable[[pd.Series, Column], tuple[np.ndarray, bool]] = _keys
    """(values, col) -> the values compared (floats, NaN for null, if continuous; keys, None for
    null, if discrete) and whether the keys came from text."""
    rare_check: Literal["codes", "cells"] | None = None
    """How the privacy report finds rare real values in the synthetic table: by the compared
    codes, by whole cells (free text), or not at all (a yes/no singles no one out)."""

    # -- rules (synthgen.rules)
    rules: InRules | None = None
    """Which rules may name it and how they read its values; None: only the rules that take
    any column (a declared dependency, missing values)."""

    # -- differentially private models (synthgen.models.dp)
    private: Literal["number", "time", "keys", "made", "categories"] = "categories"
    """How a DP model learns it: "number" or "time" (its value part, a float, binned on a public
    grid of numbers or of months; its state's `min`, `max` and `has_nulls` then set from private
    counts), "keys" (its typed values are categories named by thresholded noisy counts; its
    state fitted again on them), "made" (not learned: made anew, as keys are; `has_nulls` set),
    "categories" (turned into a categorical column first: a constant's value, free text)."""

    # -- peer libraries (synthgen.models.sdv)
    sdtype: str | None = None
    """SDV's sdtype for it; None: only its null flags reach SDV."""
    to_peer: Callable[[pd.Series, Column, dict[str, Any]], Any] | None = None
    """The values as a peer library learns them; None: `typed(...).array`."""
    from_peer: Callable[..., list[np.ndarray]] | None = None
    """(values, col, state, rng) -> a peer's values as the kind's parts; None: `encode`."""


#: Every column kind by name, in the order detection asks them (filled by `synthgen.columns`).
KINDS: dict[str, Kind] = {}


def register(*kinds: Kind) -> dict[str, Kind]:
    """Add kinds to `KINDS` (after those there: detection asks them later) and return it."""
    for kind in kinds:
        KINDS[kind.name] = kind
    return KINDS


def refill(
    fill: Callable[[Column, pd.Series, Evidence], None], col: Column, counted: Counted
) -> bool:
    """Fill a column's facts again from every distinct value a pass over the whole table counted
    (a kind's `refine` when its facts are read off its values); False when there were too many
    to count them all."""
    values = counted.distinct()
    if values is None:
        return False
    if len(values):
        fill(col, values, Evidence(values, col.decimal))
    return True
