"""Datetime columns: kept as seconds since 1970 (any year, not only pandas' 1677-2262), written
back in the format they were read in, with their timezone.

Detected from a datetime dtype, from text whose every value reads in one of `DATETIME_FORMATS`,
or from integers written yyyymmdd. Text whose days, months or hours are written without a
leading zero ("Jan 1 2000", "3/7/2021") keeps that spelling: its format says so with a `-`
flag (`%b %-d %Y`, as glibc's strftime), which reading ignores (`reading`). Encoded like a
number (continuous part + null indicator); decoding rounds to the column's resolution (days,
seconds or microseconds) and formats with vectorised numpy string operations.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from synthgen.columns import numeric
from synthgen.columns.base import (
    Column,
    Counted,
    Evidence,
    InRules,
    Kind,
    Part,
    RowRandom,
    as_given,
    has_nulls,
    is_text,
    null_mask,
    protected_bounds,
    refill,
    seen_bounds,
)
from synthgen.errors import InputError, SchemaError

#: The formats of a time of day alone (`11:38:36`, `9:05 PM`), read on 1900-01-01 and written
#: as times, tried last; such a time writes its minutes (and seconds) in two digits (a score
#: `2:1` or a ratio `16:9` is none: `_TIME_TEXT`).
_TIMES = ("%H:%M:%S", "%H:%M", "%H:%M:%S.%f", "%I:%M %p", "%I:%M:%S %p")
# Date and time formats tried in order; the first under which every value parses wins.
DATETIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%d-%b-%Y",
    "%b %d, %Y",
    "%b %d %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%d %B %Y",
    "%Y%m%d",
    # months without a day (a monthly series: `1949-01`, `Jan 2020`), read as their first day
    "%Y-%m",
    "%Y/%m",
    "%b %Y",
    "%B %Y",
    "%b-%Y",
    "%Y-%b",
    "%Y %b",
    "%Y %B",
    "%m/%Y",
    # quarters (`1970 Q1`), read as their first month's first day; `%q` is synthgen's (1-4)
    "%Y Q%q",
    "%YQ%q",
    "%Y-Q%q",
    "Q%q %Y",
    "Q%q-%Y",
    *_TIMES,
)
_TIME_TEXT = r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AaPp][Mm])?$"
# A quarter's number as written (`Q1`), which no strptime field reads: it is read as the
# quarter's first month (`Q01`, `Q04`...) under `%m` where a format has `%q`.
_QUARTER = re.compile(r"Q([1-4])")
# A format without a day reads years from 1500 to 2199 only (a code such as `1001-01` is none).
_MONTH_YEARS = (1500, 2199)
# Fields a format may write without their leading zero (`%-d`), and the flag's pattern.
_UNPADDED = ("d", "m", "H", "I")
_FLAG = re.compile(r"%-([dmHI])")
_DIGIT = re.compile(r"\d")
# Seconds since 1970 that datetime64[ns] can hold (about 1677-09-22 to 2262-04-11).
_NS_SECONDS = (np.iinfo(np.int64).max // 10**9) - 1
_EPOCH = datetime(1970, 1, 1)
_MONTHS = np.array(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
)
_MONTHS_LONG = np.array(
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
)


def reading(fmt: str) -> str:
    """The format strptime and pandas read by: without the `-` flags of unpadded fields, which
    only writing needs (strptime reads `1` and `01` alike under `%d`).

    Example:
        >>> reading("%b %-d %Y")
        '%b %d %Y'
    """
    return _FLAG.sub(r"%\1", fmt).replace("%:z", "%z").replace("%q", "%m")


def _as_months(value: str, fmt: str) -> str:
    """A quarter written as its first month (`1970 Q2` -> `1970 Q04`), for `reading(fmt)`,
    where `fmt` has a quarter (`%q`); the value itself otherwise.

    Example:
        >>> _as_months("1970 Q2", "%Y Q%q"), _as_months("1970-02", "%Y-%m")
        ('1970 Q04', '1970-02')
    """
    if "%q" not in fmt:
        return value
    return _QUARTER.sub(lambda q: f"Q{3 * int(q.group(1)) - 2:02d}", value)


def _strptime(value: str, fmt: str) -> datetime:
    """`datetime.strptime` by `fmt`, quarters (`%q`) and synthgen's flags included."""
    return datetime.strptime(_as_months(value, fmt), reading(fmt))


def written_like(text: pd.Series, fmt: str) -> str:
    """`fmt`, with those of its days, months and hours unpadded (`%-d`) that `text` writes
    without a leading zero: the first spelling under which every value of a sample (500
    distinct ones) reads back as written; `fmt` itself where none does (mixed spellings).

    Example:
        >>> written_like(pd.Series(["Jan 1 2000", "Feb 12 2000"]), "%b %d %Y")
        '%b %-d %Y'
        >>> written_like(pd.Series(["Jan 01 2000", "Feb 12 2000"]), "%b %d %Y")
        '%b %d %Y'
    """
    from itertools import combinations

    fields = [f for f in _UNPADDED if f"%{f}" in fmt]
    sample = text.dropna().astype(str).str.strip().drop_duplicates().iloc[:500]
    if not fields or not len(sample):
        return fmt
    micros = np.rint(parse_text(sample, fmt, "") * 1e6).astype(np.int64)
    as_read = sample.to_numpy(dtype=str)
    for size in range(len(fields) + 1):
        for unpadded in combinations(fields, size):
            trial = fmt
            for f in unpadded:
                trial = trial.replace(f"%{f}", f"%-{f}")
            if (format_seconds(micros, trial) == as_read).all():
                return trial
    return fmt


def _colon(text: pd.Series, fmt: str) -> str:
    """`fmt` with its UTC offset written `+01:00` (`%:z`, as ISO 8601 and Python 3.12's strftime
    spell it) where most values are written so, else `+0100` (`%z`).

    Example:
        >>> _colon(pd.Series(["2022-03-20T11:00:00+01:00"]), "%Y-%m-%dT%H:%M:%S%z")
        '%Y-%m-%dT%H:%M:%S%:z'
    """
    if "%z" not in fmt:
        return fmt
    sample = text.dropna().astype(str).str.strip().iloc[:500]
    return fmt.replace("%z", "%:z") if sample.str.contains(r"[+-]\d\d:\d\d$").mean() > 0.5 else fmt


def parse_text(text: pd.Series, fmt: str, name: str) -> np.ndarray:
    """Seconds since 1970 for each text value (NaN for null); each distinct value parsed once."""
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))  # -1: null, however spelt
    if "%q" in fmt:
        uniques = np.array([_as_months(str(v), fmt) for v in uniques], dtype=object)
    fmt = reading(fmt)
    seconds = _parse_vectorised(uniques, fmt)
    if seconds is None:
        seconds = np.array([_parse_one(value, fmt, name) for value in uniques], dtype=float)
    return np.append(seconds, np.nan)[codes]  # code -1 takes the NaN at the end


def _parse_one(value: Any, fmt: str, name: str) -> float:
    """Seconds since 1970 of one text by `datetime.strptime`."""
    try:
        stamp = datetime.strptime(str(value).strip(), reading(fmt))
    except ValueError:
        raise InputError(
            f"column {name!r}: {value!r} does not match the date format {fmt!r}"
        ) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return (stamp - _EPOCH) / timedelta(seconds=1)


def _parse_vectorised(uniques: np.ndarray, fmt: str) -> np.ndarray | None:
    """Seconds for each text by pandas' vectorised parser (many times faster than a strptime per
    value); None when it cannot: a date outside pandas' years 1677-2262, or a text that does not
    match (the loop then parses it, or names the bad value)."""
    if not len(uniques):
        return None
    try:
        stamps = pd.to_datetime(
            pd.Series(uniques, dtype=object).astype(str).str.strip(),
            format=fmt,
            utc="%z" in fmt,
        )
    except (ValueError, OverflowError, TypeError):
        return None
    if stamps.isna().any():
        return None
    if "%z" in fmt:
        stamps = stamps.dt.tz_localize(None)
    return stamps.to_numpy().astype("datetime64[us]").astype(np.int64) / 1e6


def _offset(text: pd.Series, fmt: str) -> int:
    """The UTC offset (seconds) most values were written with; 0 for naive formats."""
    fmt = reading(fmt)
    if "%z" not in fmt:
        return 0
    sample = text.dropna().astype(str).str.strip().iloc[:1000]
    offsets = [datetime.strptime(v, fmt).utcoffset().total_seconds() for v in sample]
    return int(pd.Series(offsets).mode().iloc[0]) if offsets else 0


def to_seconds(values: pd.Series, col: Column) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dtype, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        ints = values.to_numpy().astype("datetime64[us]").astype(np.int64).astype(float)
        ints[null_mask(values)] = np.nan
        return ints / 1e6
    if col.format is None:
        raise InputError(f"column {col.name!r} is datetime but has no format")
    return parse_text(values, col.format, col.name)


def guess_format(text: pd.Series) -> str | None:
    """The first of `DATETIME_FORMATS` that reads every value (of the first 500 distinct ones).

    Example:
        >>> guess_format(pd.Series(["31/01/2024", "01/02/2024"]))
        '%d/%m/%Y'
    """
    sample = text.drop_duplicates()
    sample = sample.iloc[:500] if len(sample) > 500 else sample
    if not len(sample) or not _DIGIT.search(str(sample.iloc[0])):
        return None  # every format has digits: words are no dates, whatever the format
    for fmt in DATETIME_FORMATS:
        if fmt == "%Y%m%d" and not sample.str.match(r"^(1[5-9]|2[01])\d{2}[01]\d[0-3]\d$").all():
            continue
        if fmt in _TIMES and not sample.str.strip().str.match(_TIME_TEXT).all():
            continue
        try:
            read = [_strptime(value, fmt) for value in sample]
        except ValueError:
            continue
        if "%d" not in fmt and fmt not in _TIMES and not _month_like(read):
            continue
        return fmt
    return None


def _month_like(read: list[datetime]) -> bool:
    """Whether dates read without a day are months: years from 1500 to 2199 (a code such as
    `1001-01` is none), and not seasons (`2001-02` ... `2010-11`: every "month" the year's next
    one)."""
    years = [d.year for d in read]
    if not _MONTH_YEARS[0] <= min(years) <= max(years) <= _MONTH_YEARS[1]:
        return False
    return not all(d.month == (d.year + 1) % 100 for d in read)


def _yyyymmdd(text: list[str]) -> bool:
    """Integer-coded dates (20240131): eight digits that all read as dates."""
    return (
        all(len(t) == 8 and t.isdigit() for t in text)
        and guess_format(pd.Series(text, dtype=object)) == "%Y%m%d"
    )


def claims(ev: Evidence) -> bool:
    """Dates: a datetime dtype, integers written yyyymmdd, or text (not numbers) in a known
    date format."""
    if ev.stripped is None:
        return pd.api.types.is_datetime64_any_dtype(ev.values.dtype)
    found = numeric.numbers_of(ev)
    plain = found is not None and found.thousands is None and not (found.prefix or found.suffix)
    if plain and found.integer and _yyyymmdd(ev.stripped):
        return True
    if numeric.holds(ev):
        return False
    return guess_format(pd.Series(ev.stripped, dtype=object)) is not None


def fill(col: Column, values: pd.Series, ev: Evidence) -> None:
    """The format (unless given) or the timezone of a datetime dtype, and the bounds."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        tz = getattr(values.dtype, "tz", None)
        col.timezone = str(tz) if tz is not None else None
        epoch = to_seconds(values, col)
    else:
        text = values.astype(str).str.strip()
        if col.format is None:
            found = guess_format(text)
            col.format = found and _colon(text, written_like(text, found))
        if col.format is None:
            raise SchemaError(
                f"column {col.name!r} is datetime but its values match no known format; "
                'give one in the schema, e.g. "format": "%d/%m/%Y"'
            )
        epoch = parse_text(text, col.format, col.name)
    ev.read = epoch  # what `to_seconds` reads (parse_text strips each text too)
    col.min, col.max = numeric.plain(np.nanmin(epoch)), numeric.plain(np.nanmax(epoch))


def _resolution(seconds: np.ndarray) -> float:
    finite = seconds[np.isfinite(seconds)]
    if not len(finite) or np.all(finite % 86400 == 0):
        return 86400.0
    if np.all(finite % 1 == 0):
        if np.all(finite % 3600 == 0):
            return 3600.0
        return 60.0 if np.all(finite % 60 == 0) else 1.0
    return 1e-6


def fit(
    values: pd.Series,
    col: Column,
    rare_threshold: int = 0,
    counted: Counted | None = None,
) -> dict[str, Any]:
    seconds = to_seconds(values, col)
    missing = np.isnan(seconds)
    finite = seconds[~missing]
    dtype_tz = getattr(values.dtype, "tz", None)
    low = col.min if col.min is not None else (finite.min() if len(finite) else 0.0)
    high = col.max if col.max is not None else (finite.max() if len(finite) else 0.0)
    seen = float(low), float(high)
    low, high = protected_bounds(finite, *seen, rare_threshold)
    resolution = _resolution(seconds)
    return seen_bounds(seen, low, high) | {
        "min": float(low),
        "max": float(high),
        "has_nulls": has_nulls(values, counted),
        "resolution": resolution,
        "lattice": lattice(finite) if resolution == 86400.0 else None,
        "offset": _offset(values, col.format) if col.format else 0,
        "typed": col.format is None,
        "tz": str(dtype_tz) if dtype_tz is not None else col.timezone,
    }


def parts(name: str, state: dict[str, Any]) -> list[Part]:
    return numeric.continuous_parts(name, state)


def encode(values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator) -> list:
    return numeric.encode_continuous(to_seconds(values, col), state, rng)


def decode(
    arrays: list[np.ndarray],
    col: Column,
    state: dict[str, Any],
    rows: RowRandom,
    as_category: bool = False,
) -> pd.Series:
    x, missing = numeric.decode_continuous(arrays, state)
    res = state["resolution"]
    x = np.round(x / res) * res
    x = settle(x, state)
    micros = np.rint(x * 1e6).astype(np.int64)
    if state["typed"]:
        stamps = micros.astype("datetime64[us]")
        stamps[missing] = np.datetime64("NaT")
        series = pd.Series(stamps)
        if state["tz"]:
            series = series.dt.tz_localize("UTC").dt.tz_convert(state["tz"])
        return series
    text = format_seconds(micros + state["offset"] * 1_000_000, col.format, state["offset"])
    out = text.astype(object)
    out[missing] = None
    return pd.Series(out)


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day for days since 1970-01-01 (proleptic Gregorian, any year)."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return y + (m <= 2), m, d


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of year, month, day (proleptic Gregorian; `_civil` undone)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


#: The fewest distinct dates that show a lattice of months, and of days (a chance lattice of
#: even days among 20 dates: one in half a million).
LATTICE_MONTHS = 12
LATTICE_DAYS = 20


def lattice(seconds: np.ndarray) -> dict[str, Any] | None:
    """The calendar lattice the dates (whole days) lie on, which decoding keeps: the first or
    the last day of every `every`th month from `origin` (a month count since year 0: monthly,
    quarterly, yearly series), or every `every`th day from day `origin` (a weekly series);
    None where they lie on none, or are too few to tell (`LATTICE_MONTHS`, `LATTICE_DAYS`).

    Example:
        >>> firsts = pd.date_range("2000-01-01", periods=24, freq="3MS")
        >>> lattice(firsts.to_numpy().astype("datetime64[s]").astype(float))
        {'unit': 'months', 'every': 3, 'origin': 0, 'end': False}
    """
    days = np.unique(np.floor_divide(seconds, 86400)).astype(np.int64)
    if len(days) < LATTICE_MONTHS:
        return None
    for end in (False, True):
        y, m, d = _civil(days + end)
        if (d == 1).all():
            months = y * 12 + m - 1
            every = int(np.gcd.reduce(months - months[0]))
            return {"unit": "months", "every": every, "origin": int(months[0] % every), "end": end}
    every = int(np.gcd.reduce(days - days[0]))
    if len(days) >= LATTICE_DAYS and every >= 2:
        return {"unit": "days", "every": every, "origin": int(days[0] % every), "end": False}
    return None


def settle(x: np.ndarray, state: dict[str, Any], side: int = 0) -> np.ndarray:
    """Dates on the column's lattice, if it has one (`lattice`): the nearest lattice date
    within the column's bounds, or (`side` 1, -1) the nearest at or above, at or below."""
    grid = state.get("lattice")
    if not grid:  # None, or absent from model files before it
        return x
    y = on_lattice(x, grid)
    if not side:
        return np.clip(y, state["min"], state["max"])
    step = grid["every"] * (31 if grid["unit"] == "months" else 1) * 86400.0
    with np.errstate(invalid="ignore"):
        past = y < x if side > 0 else y > x
    return np.where(past, on_lattice(y + side * step, grid), y)


def on_lattice(x: np.ndarray, grid: dict[str, Any]) -> np.ndarray:
    """Seconds since 1970 moved to the nearest date of the `lattice` (NaN stays NaN).

    Example:
        >>> grid = {"unit": "months", "every": 1, "origin": 0, "end": False}
        >>> days = np.array([10.0, 20.0, 44.0]) * 86400  # 1970-01-11, 01-21, 02-14
        >>> (on_lattice(days, grid) / 86400).tolist()  # 01-01, 02-01, 02-01 (nearest)
        [0.0, 31.0, 31.0]
    """
    every, origin = int(grid["every"]), int(grid["origin"])
    t = x / 86400.0 + (1.0 if grid["end"] else 0.0)
    given = np.isfinite(t)
    out = np.full(len(t), np.nan)
    t = t[given]
    if grid["unit"] == "days":
        k = np.round((t - origin) / every) * every + origin
    else:
        y, m, _ = _civil(np.floor(t).astype(np.int64))
        start = _days(y, m, np.ones_like(m))
        length = _days(y + (m == 12), m % 12 + 1, np.ones_like(m)) - start
        months = y * 12 + m - 1 + (t - start) / length
        k = (np.round((months - origin) / every) * every + origin).astype(np.int64)
        k = _days(np.floor_divide(k, 12), k % 12 + 1, np.ones_like(k)).astype(float)
    out[given] = (k - (1.0 if grid["end"] else 0.0)) * 86400.0
    return out


def _pad(values: np.ndarray, width: int) -> np.ndarray:
    if not len(values):  # numpy's zfill takes the widest value, which no rows have
        return np.array([], dtype=f"U{width}")
    return np.char.zfill(values.astype(str), width)


def format_seconds(micros: np.ndarray, fmt: str, offset: int = 0) -> np.ndarray:
    """strftime for an array of local microseconds since 1970, without a Python loop per row.

    Example:
        >>> str(format_seconds(np.array([0]), "%d/%m/%Y %H:%M")[0])
        '01/01/1970 00:00'
        >>> format_seconds(np.array([], dtype=np.int64), "%d/%m/%Y").shape
        (0,)
        >>> str(format_seconds(np.array([0]), "%b %-d %Y, %-I %p")[0])
        'Jan 1 1970, 12 AM'
    """
    micros = np.asarray(micros, dtype=np.int64)
    seconds = np.floor_divide(micros, 1_000_000)
    days = np.floor_divide(seconds, 86400)
    rest = seconds - days * 86400
    y, m, d = _civil(days)
    sign = "+" if offset >= 0 else "-"
    hh, mm = divmod(abs(offset) // 60, 60)
    fields = {
        "Y": lambda: _pad(y, 4),
        "y": lambda: _pad(y % 100, 2),
        "m": lambda: _pad(m, 2),
        "d": lambda: _pad(d, 2),
        "H": lambda: _pad(rest // 3600, 2),
        "I": lambda: _pad((rest // 3600 - 1) % 12 + 1, 2),
        "p": lambda: np.where(rest // 3600 < 12, "AM", "PM"),
        "M": lambda: _pad(rest // 60 % 60, 2),
        "S": lambda: _pad(rest % 60, 2),
        "f": lambda: _pad(micros - seconds * 1_000_000, 6),
        "q": lambda: ((m - 1) // 3 + 1).astype(str),
        "b": lambda: _MONTHS[m - 1],
        "B": lambda: _MONTHS_LONG[m - 1],
        "z": lambda: np.full(len(micros), f"{sign}{hh:02d}{mm:02d}"),
        "%": lambda: np.full(len(micros), "%"),
    }
    bare = {  # the fields a `-` flag writes without their leading zero (`_UNPADDED`)
        "d": lambda: d,
        "m": lambda: m,
        "H": lambda: rest // 3600,
        "I": lambda: (rest // 3600 - 1) % 12 + 1,
    }
    out = np.full(len(micros), "", dtype="U1")
    i = 0
    literal = ""
    while i < len(fmt):
        if fmt[i] == "%" and fmt[i + 1 : i + 2] == "-" and fmt[i + 2 : i + 3] in _UNPADDED:
            if literal:
                out = np.char.add(out, literal)
                literal = ""
            out = np.char.add(out, bare[fmt[i + 2]]().astype(str))
            i += 3
        elif fmt[i : i + 3] == "%:z":  # the offset with a colon, as ISO 8601 writes it
            if literal:
                out = np.char.add(out, literal)
                literal = ""
            out = np.char.add(out, np.full(len(micros), f"{sign}{hh:02d}:{mm:02d}"))
            i += 3
        elif fmt[i] == "%" and i + 1 < len(fmt) and fmt[i + 1] in fields:
            if literal:
                out = np.char.add(out, literal)
                literal = ""
            out = np.char.add(out, fields[fmt[i + 1]]())
            i += 2
        else:
            literal += fmt[i]
            i += 1
    if literal:
        out = np.char.add(out, literal)
    return out


def parse_values(values: pd.Series, col: Column, state: dict[str, Any]) -> np.ndarray:
    """Given dates as seconds since 1970 (NaN where missing): in the column's own format first,
    then any ISO-like spelling (`2020-01-31`), so a condition need not copy an odd format."""
    text = values.astype(object).where(values.notna(), None)
    if col.format is not None and all(isinstance(v, str) or v is None for v in text):
        try:
            return parse_text(text, col.format, col.name)
        except InputError:
            pass
    try:
        stamps = pd.to_datetime(pd.Series(text, dtype=object), format="mixed")
    except (ValueError, TypeError):
        example = next(v for v in text if v is not None)
        raise InputError(
            f"column {col.name!r}: can't read {example!r} as a date (written like {col.format!r})"
        ) from None
    if getattr(stamps.dtype, "tz", None) is None and state.get("tz") and col.format is None:
        stamps = stamps.dt.tz_localize(state["tz"])
    return to_seconds(stamps, Column(name=col.name, kind="datetime"))


def grid(state: dict[str, Any]) -> float:
    """The spacing (seconds) of the dates decoding writes; 0 below a second."""
    return float(state["resolution"]) if state["resolution"] >= 1 else 0.0


def typed(values: pd.Series, col: Column) -> pd.Series:
    """datetime64[ns], naive UTC; float seconds since 1970 outside pandas' 1677-2262."""
    seconds = to_seconds(values, col)
    finite = seconds[np.isfinite(seconds)]
    if len(finite) and np.abs(finite).max() > _NS_SECONDS:
        return pd.Series(seconds, index=values.index, name=values.name)
    micros = np.rint(np.nan_to_num(seconds) * 1e6).astype(np.int64)
    stamps = micros.astype("datetime64[us]").astype("datetime64[ns]")
    stamps[np.isnan(seconds)] = np.datetime64("NaT")
    return pd.Series(stamps, index=values.index, name=values.name)


def compared(values: pd.Series, col: Column) -> tuple[np.ndarray, bool]:
    """Seconds since 1970, as the report compares dates."""
    return to_seconds(values, col), is_text(values)


def show(value: float) -> str:
    """Seconds since 1970 as a message writes a date."""
    return str(pd.Timestamp(value, unit="s"))


def written(
    parsed: np.ndarray, raw: pd.Series | None, col: Column, state: dict[str, Any]
) -> pd.Series:
    """Dates as decoding writes them (given cells to the microsecond); given text as given."""
    if not (state["typed"] or raw is None):
        return as_given(parsed, raw, col, state)
    resolution = 1e-6 if raw is not None else state["resolution"]
    return numeric.decode_exactly(decode, parsed, col, state, resolution=resolution)


def from_peer(
    values: pd.Series, col: Column, state: dict[str, Any], rng: np.random.Generator
) -> list[np.ndarray]:
    """A peer's dates as parts: dates outside pandas' range went to it as seconds since 1970."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return encode(values, col, state, rng)
    return numeric.encode_continuous(numeric.to_float(values, col.name), state, rng)


KIND = Kind(
    name="datetime",
    claims=claims,
    fill=fill,
    refine=partial(refill, fill),
    fit=fit,
    parts=parts,
    encode=encode,
    decode=decode,
    exact_from_counts=True,
    typed=typed,
    parse=parse_values,
    grid=grid,
    settle=settle,
    show=show,
    written=written,
    shape="continuous",
    compared=compared,
    rules=InRules("time", values=to_seconds),
    private="time",
    sdtype="datetime",
    from_peer=from_peer,
)
