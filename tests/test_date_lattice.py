"""Dates on a calendar lattice (a monthly series' first days, a quarter's last days, a weekly
series' one weekday) stay on it: what each model writes, a rule's order, a condition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen.columns import datetime as dt
from synthgen.errors import ConditionError


def seconds(stamps: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(stamps).to_numpy().astype("datetime64[s]").astype(float)


@pytest.mark.parametrize(
    "freq, lattice",
    [
        ("MS", {"unit": "months", "every": 1, "origin": 0, "end": False}),
        ("ME", {"unit": "months", "every": 1, "origin": 0, "end": True}),
        ("QS-FEB", {"unit": "months", "every": 3, "origin": 1, "end": False}),
        ("QE", {"unit": "months", "every": 3, "origin": 0, "end": True}),
        ("YS", {"unit": "months", "every": 12, "origin": 0, "end": False}),
        ("W-WED", {"unit": "days", "every": 7, "origin": 6, "end": False}),  # 1970-01-01: a Thu
        ("14D", {"unit": "days", "every": 14, "origin": 3, "end": False}),  # 1890-01-05: day -29215
    ],
)
def test_a_lattice_is_found_and_kept(freq, lattice):
    """Found from the dates, and every date drawn between them goes to the nearest lattice
    date: never more than half a step away, the lattice's own dates unmoved."""
    real = seconds(pd.date_range("1890-01-05", periods=40, freq=freq))
    assert dt.lattice(real) == lattice
    drawn = np.random.default_rng(0).uniform(real.min(), real.max(), 3000)
    kept = dt.on_lattice(drawn, lattice)
    assert np.isin(kept, real).all()
    step = np.diff(real).max()
    assert np.abs(kept - drawn).max() <= step / 2 + 86400
    assert (dt.on_lattice(real, lattice) == real).all()
    assert np.isnan(dt.on_lattice(np.array([np.nan]), lattice)).all()
    state = {"lattice": lattice, "min": real.min(), "max": real.max()}
    up, down = dt.settle(drawn, state, 1), dt.settle(drawn, state, -1)
    assert (up >= drawn).all() and (down <= drawn).all() and np.isin(up, real).all()


def test_no_lattice_for_any_day_or_too_few_dates():
    rng = np.random.default_rng(0)
    days = np.sort(rng.choice(np.arange(20000), 300, replace=False)) * 86400.0
    assert dt.lattice(days) is None
    assert dt.lattice(seconds(pd.date_range("2000-01-01", periods=11, freq="MS"))) is None
    even = seconds(pd.date_range("2000-01-01", periods=19, freq="2D"))  # too few to tell
    assert dt.lattice(even) is None


def monthly(n: int = 900, seed: int = 0) -> pd.DataFrame:
    """A month, a day within it (never before it: an order rule) and a figure of the month."""
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    month = day.to_period("M").to_timestamp()
    return pd.DataFrame(
        {
            "month": month.strftime("%Y-%m-%d"),
            "day": day.strftime("%Y-%m-%d"),
            "sales": (100 + 3 * month.month + rng.normal(size=n)).round(2),
        }
    )


@pytest.mark.parametrize("model", ["gaussian-copula", "gmm", "cart"])
def test_every_model_writes_the_months_first_days_and_keeps_the_order(model):
    """Before the lattice, gmm and the copula wrote any day of the month, and moving the month
    after the rules ran would put it past its day (gmm: 8 of 1,500 rows)."""
    real = monthly()
    fitted = synthgen.fit(real, model=model, seed=0)
    assert fitted.encoder_.inner.states[0]["lattice"]["unit"] == "months"
    synth = fitted.sample(1500, seed=1)
    month, day = pd.to_datetime(synth["month"]), pd.to_datetime(synth["day"])
    assert (month.dt.day == 1).all()
    assert (month <= day).all()
    assert synthgen.report(real, synth, model=fitted).to_dict()["rules"]["verdict"] == "pass"


def test_conditions_ask_for_the_lattice_dates():
    fitted = synthgen.fit(monthly(), model="gmm", seed=0)
    with pytest.raises(ConditionError, match="only takes values on the calendar .* 2013-03-01"):
        fitted.sample(10, seed=0, where="month=2013-03-12")
    on = fitted.sample(50, seed=0, where="month=2013-03-01")
    assert (on["month"] == "2013-03-01").all()
    later = pd.to_datetime(fitted.sample(200, seed=0, where="month>=2013-03-02")["month"])
    assert later.min() >= pd.Timestamp("2013-04-01") and (later.dt.day == 1).all()
    with pytest.raises(ConditionError, match="no value"):
        fitted.sample(10, seed=0, where="month between 2013-03-02 and 2013-03-30")


def test_a_model_file_without_a_lattice_writes_as_before():
    """Files saved before the lattice have no key: their dates are decoded as they were."""
    real = monthly()
    fitted = synthgen.fit(real, model="gmm", seed=0)
    state = fitted.encoder_.inner.states[0]
    assert dt.settle(np.array([5.0 * 86400]), {**state, "lattice": None})[0] == 5.0 * 86400
    old = {k: v for k, v in state.items() if k != "lattice"}
    assert dt.settle(np.array([5.0 * 86400]), old)[0] == 5.0 * 86400


@pytest.mark.parametrize("fmt", ["%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S"])
def test_hourly_readings_are_dates_written_on_the_hour(fmt):
    """vega_datasets' seattle-temps (`2010/01/01 00:00`, one reading an hour) was read as free
    text; its times are now dates, and written on the hour as read."""
    from synthgen.schema import detect

    hours = pd.date_range("2010-01-01", periods=600, freq="h")
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"time": hours.strftime(fmt), "temp": rng.normal(40, 5, 600).round(1)})
    col = detect(real).columns[0]
    assert (col.kind, col.format) == ("datetime", fmt)
    synth = synthgen.fit(real, model="gmm", seed=0).sample(600, seed=0)
    written = pd.to_datetime(synth["time"], format=fmt)
    assert (written.dt.minute == 0).all() and written.nunique() > 100


def test_the_copy_check_hashes_dates_on_their_lattice():
    """A row drawn mid-month is written on the month's first day, so the copy guards
    (`cart_copies.row_hashes`, cart's and the copula's and gmm's) hash it there: as the
    training row it copies once written (before, they hashed the drawn day and missed it)."""
    from synthgen.conditions import targets
    from synthgen.models.cart_copies import row_hashes

    months = pd.date_range("2001-01-01", periods=60, freq="MS")
    real = pd.DataFrame({"month": months.strftime("%Y-%m-%d"), "n": np.arange(60) % 7})
    model = synthgen.fit(real, model="cart", seed=0)
    enc = model.encoder_
    data = enc.encode(real, np.random.default_rng(0))
    before = row_hashes(enc, data, 64)
    part = targets(enc)["month"].value
    x = data.continuous[:, part]
    days = np.random.default_rng(1).integers(-13, 14, len(real)) * 86400.0
    data.continuous[:, part] = np.clip(x + days, x.min(), x.max())
    assert (row_hashes(enc, data, 64) == before).all()
