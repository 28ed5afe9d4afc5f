"""Datetime text parsing: pandas' vectorised parser and the per-value strptime loop agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from synthgen.columns import datetime as dt
from synthgen.errors import InputError

FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%d/%m/%Y %H:%M",
    "%b %d, %Y",
    "%Y-%m-%dT%H:%M:%S%z",
    "%d %B %Y %I:%M %p",
]


def strptime_seconds(text: str, fmt: str) -> float:
    stamp = datetime.strptime(text.strip(), fmt)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return (stamp - datetime(1970, 1, 1)) / timedelta(seconds=1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_vectorised_parse_matches_strptime(fmt):
    rng = np.random.default_rng(0)
    texts = []
    for s, us, h in zip(
        rng.integers(-2 * 10**9, 2 * 10**9, 200),
        rng.integers(0, 10**6, 200),
        rng.integers(-11, 12, 200),
    ):
        stamp = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=int(s), microseconds=int(us))
        texts.append(stamp.astimezone(timezone(timedelta(hours=int(h)))).strftime(fmt))
    values = pd.Series([*texts, None, f" {texts[0]} "], dtype=object)
    uniques = pd.unique(values[values.notna()])
    assert dt._parse_vectorised(uniques, fmt) is not None  # the fast path is taken
    got = dt.parse_text(values, fmt, "when")
    assert got[:-2].tolist() == [strptime_seconds(t, fmt) for t in texts]
    assert np.isnan(got[-2]) and got[-1] == got[0]


def test_dates_outside_pandas_range_and_bad_text():
    got = dt.parse_text(pd.Series(["1600-01-01", "2300-05-06"], dtype=object), "%Y-%m-%d", "d")
    assert got.tolist() == [
        strptime_seconds("1600-01-01", "%Y-%m-%d"),
        strptime_seconds("2300-05-06", "%Y-%m-%d"),
    ]
    with pytest.raises(InputError, match="'nope' does not match the date format"):
        dt.parse_text(pd.Series(["2020-01-01", "nope"], dtype=object), "%Y-%m-%d", "d")


def detected_and_written_as_read(texts: list[str], fmt: str) -> np.ndarray:
    """Seconds of `texts` (ten times each) read as a date column of format `fmt`, which writes
    them back as they were."""
    from synthgen.schema import detect

    table = pd.DataFrame({"when": texts * 10, "x": np.arange(len(texts) * 10)})
    col = detect(table).columns[0]
    assert (col.kind, col.format) == ("datetime", fmt)
    seconds = dt.parse_text(table["when"], col.format, "when")
    micros = np.rint(seconds * 1e6).astype(np.int64)
    assert dt.format_seconds(micros, col.format).tolist() == table["when"].tolist()
    return seconds


@pytest.mark.parametrize(
    ("texts", "fmt"),
    [
        (["Jan 1 2000", "Feb 12 2000", "Mar 3 2001"], "%b %-d %Y"),
        (["Jan 01 2000", "Feb 12 2000", "Mar 03 2001"], "%b %d %Y"),
        (["January 5, 1999", "March 17, 2004", "May 1, 2010"], "%B %-d, %Y"),
        (["5 January 1999", "17 March 2004", "1 May 2010"], "%d %B %Y".replace("%d", "%-d")),
        (["3/7/2021", "12/25/2021", "1/31/2022"], "%-m/%-d/%Y"),
        (["03/07/2021", "12/25/2021", "01/31/2022"], "%m/%d/%Y"),
    ],
)
def test_dates_detected_and_written_as_read(texts, fmt):
    """Month names with or without a comma, and days or months without their leading zero, are
    dates whose format writes them back as they were read."""
    seconds = detected_and_written_as_read(texts, fmt)
    expected = [datetime.strptime(t, dt.reading(fmt)) for t in texts]
    assert seconds[:3].tolist() == [(e - datetime(1970, 1, 1)).total_seconds() for e in expected]


@pytest.mark.parametrize(
    ("texts", "fmt"),
    [
        (["1949-01", "1949-02", "1960-12"], "%Y-%m"),
        (["1977-Jan", "1977-Feb", "2015-Dec"], "%Y-%b"),
        (["Jan 2020", "Feb 2020", "Dec 2021"], "%b %Y"),
        (["January 2020", "March 2021", "May 1999"], "%B %Y"),
        (["Jan-2020", "Feb-2020", "Dec-2021"], "%b-%Y"),
        (["1991 Jul", "1991 Aug", "2008 Jun"], "%Y %b"),
        (["1991 July", "1991 August", "2008 June"], "%Y %B"),
        (["1970 Q1", "1970 Q2", "2016 Q4"], "%Y Q%q"),
        (["1970Q1", "1970Q3", "2016Q4"], "%YQ%q"),
        (["1970-Q1", "1970-Q3", "2016-Q4"], "%Y-Q%q"),
        (["Q1 1970", "Q2 1970", "Q4 2016"], "Q%q %Y"),
        (["Q1-1970", "Q2-1970", "Q4-2016"], "Q%q-%Y"),
        (["01/2020", "02/2020", "12/2021"], "%m/%Y"),
        (["2020/01", "2020/02", "2021/12"], "%Y/%m"),
    ],
)
def test_months_without_a_day_are_dates_on_the_first(texts, fmt):
    """A monthly series written without its day (river's airline passengers: `1949-01`,
    `1977-Jan`) is a date column, each value its month's first day, written back as read and
    kept on its months by a model (before: a key column, written `0000-00`, `7930-07`)."""
    import synthgen

    seconds = detected_and_written_as_read(texts, fmt)
    assert (pd.to_datetime(seconds, unit="s").day == 1).all()
    if "%q" in fmt:  # a quarter is its first month's first day
        assert set(pd.to_datetime(seconds, unit="s").month) <= {1, 4, 7, 10}
    series = pd.DataFrame(
        {
            "month": dt.format_seconds(
                (pd.date_range("1990-01-01", periods=120, freq="MS").asi8 // 1000), fmt
            ),
            "y": np.arange(120) % 17,
        }
    )
    out = synthgen.fit(series, model="gmm", seed=0).sample(300, seed=1)["month"]
    assert out.isin(set(series["month"])).all()


@pytest.mark.parametrize("codes", [["1001-01", "1002-02", "1003-03"], ["0001/2020", "0002/2020"]])
def test_codes_shaped_like_months_are_not_dates(codes):
    from synthgen.schema import detect

    col = detect(pd.DataFrame({"code": codes * 10, "x": np.arange(len(codes) * 10)})).columns[0]
    assert col.kind != "datetime"


def test_an_offset_written_with_a_colon_is_written_so():
    """ISO 8601's `+01:00` (river's water flow) is written back with its colon (`%:z`), and
    `+0100` without."""
    import synthgen

    stamps = pd.date_range("2022-03-20 11:00", periods=200, freq="h")
    for offset, fmt in (("+01:00", "%Y-%m-%dT%H:%M:%S%:z"), ("+0100", "%Y-%m-%dT%H:%M:%S%z")):
        table = pd.DataFrame({"t": [f"{s:%Y-%m-%dT%H:%M:%S}{offset}" for s in stamps]})
        table["flow"] = np.arange(200) % 13
        model = synthgen.fit(table, seed=0)
        assert model.schema_.columns[0].format == fmt
        out = model.sample(50, seed=1)["t"]
        assert out.str.endswith(offset).all()
        assert dt.parse_text(out, fmt, "t").min() >= dt.parse_text(table["t"], fmt, "t").min()


def test_seasons_are_not_months():
    """`2001-02` ... `2010-11` read as year-month too; a table's seasons are no dates."""
    from synthgen.schema import detect

    seasons = [f"{y}-{(y + 1) % 100:02d}" for y in range(2001, 2011)]
    col = detect(pd.DataFrame({"season": seasons * 5, "x": np.arange(50)})).columns[0]
    assert col.kind != "datetime"


def test_mixed_padding_is_written_padded():
    """Values that write a day both ways keep the padded format (no one spelling reads them
    all back)."""
    texts = pd.Series(["Jan 1 2000", "Jan 02 2000"])
    assert dt.written_like(texts, "%b %d %Y") == "%b %d %Y"


def test_unpadded_fields_written_bare():
    stamps = [datetime(2021, 3, 7, 0, 5), datetime(2021, 11, 25, 13, 0), datetime(1969, 1, 1, 9)]
    micros = np.array([int((s - datetime(1970, 1, 1)).total_seconds()) * 10**6 for s in stamps])
    got = dt.format_seconds(micros, "%-m/%-d/%Y %-H:%M (%-I %p)").tolist()
    bare = [
        f"{s.month}/{s.day}/{s.year} {s.hour}:{s.minute:02d} ({(s.hour - 1) % 12 + 1} "
        f"{'AM' if s.hour < 12 else 'PM'})"
        for s in stamps
    ]
    assert got == bare


def test_fitted_dates_come_back_in_their_spelling():
    """A model's rows write a month-named, unpadded date column as the input did."""
    import synthgen

    rng = np.random.default_rng(0)
    days = pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.integers(0, 3000, 300), unit="D")
    texts = [f"{d:%b} {d.day} {d.year}" for d in days]
    table = pd.DataFrame({"when": texts, "price": rng.gamma(2.0, 10.0, 300)})
    out = synthgen.fit(table, model="cart", seed=0).sample(200, seed=1)["when"]
    assert out.str.fullmatch(r"[A-Z][a-z]{2} [1-9]\d? \d{4}").all()
    read = pd.to_datetime(out, format="%b %d %Y")
    assert read.min() >= days.min() and read.max() <= days.max()


@pytest.mark.parametrize(
    ("texts", "fmt"),
    [
        (["11:38:36", "23:01:00", "09:05:59"], "%H:%M:%S"),
        (["14:22", "09:05", "00:50"], "%H:%M"),
        (["9:05", "14:22", "0:50"], "%-H:%M"),
        (["12:30:15.250000", "01:00:00.500000", "23:59:59.000001"], "%H:%M:%S.%f"),
        (["09:05 PM", "11:15 AM", "12:00 PM"], "%I:%M %p"),
    ],
)
def test_times_of_day_are_times_written_as_read(texts, fmt):
    """A time of day alone (great_tables' pizzaplace: `11:38:36`; gibraltar's half-hourly
    `00:20`) is a time on 1900-01-01, written back as read. It was a key, written `50:43:80`
    (77% of synthetic hours past 23), or a category."""
    seconds = detected_and_written_as_read(texts, fmt)
    assert (pd.to_datetime(seconds, unit="s").date == pd.Timestamp("1900-01-01").date()).all()


@pytest.mark.parametrize(
    "texts", [["2:1", "3:0", "1:1"], ["16:9", "4:3", "21:9"], ["25:10:00", "1:00:00"]]
)
def test_scores_ratios_and_long_durations_are_not_times(texts):
    assert dt.guess_format(pd.Series(texts * 5)) is None


def test_fitted_times_stay_times_of_the_real_span():
    import synthgen

    rng = np.random.default_rng(0)
    minutes = rng.integers(9 * 60 + 50, 23 * 60 + 5, 400)
    table = pd.DataFrame(
        {
            "time": [
                f"{m // 60:02d}:{m % 60:02d}:{s:02d}"
                for m, s in zip(minutes, rng.integers(0, 60, 400))
            ]
        }
        | {"price": rng.gamma(2.0, 10.0, 400).round(2)}
    )
    out = synthgen.fit(table, model="cart", seed=0).sample(300, seed=1)["time"]
    assert out.str.fullmatch(r"(0\d|1\d|2[0-3]):[0-5]\d:[0-5]\d").all()
    assert out.min() >= table["time"].min() and out.max() <= table["time"].max()
