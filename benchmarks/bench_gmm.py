"""GMM against synthgen's Gaussian copula: SDMetrics quality, fit time, sampling time per row.

Protocol (as in the datasets' README): split each table 80/20 (rows shuffled with seed 0), fit on
the 80% with seed 0, sample as many rows as the 20% holdout with seed 0, and score the sample
against the 80% with SDMetrics' QualityReport. Both sides are read the same way: the CSV through
`synthgen.io.read_table`, the synthetic rows written to CSV and read back, then typed by synthgen's
schema of the training rows (which also gives SDMetrics its metadata). The holdout scored the same
way is the ceiling. Sampling speed: `model.sample(rows)` for both models, one after the other.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_gmm.py --data ../shared/datasets

Needs sdmetrics (the dev extra); it is only the judge here, never used by synthgen itself.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import synthgen
from synthgen.io import read_table, write_table
from synthgen.schema import Schema

MODELS = ("gaussian-copula", "gmm")
TABLES = ("adult", "taxis", "titanic", "diamonds")
_SDTYPE = {"numeric": "numerical", "datetime": "datetime", "id": "id", "text": "text"}


def split(table: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(table))
    cut = int(round(0.8 * len(table)))
    return (table.iloc[order[:cut]].reset_index(drop=True),
            table.iloc[order[cut:]].reset_index(drop=True))


def typed(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Numbers as floats and dates as datetimes (the rest as text), for SDMetrics."""
    out = {}
    for col in schema.columns:
        values = frame[col.name]
        if col.kind == "numeric":
            values = pd.to_numeric(values.astype(object).map(
                lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
        elif col.kind == "datetime":
            values = pd.to_datetime(values, format=col.format, errors="coerce", utc=True)
            values = values.dt.tz_localize(None)
        else:
            values = values.astype(object).where(values.notna(), None)
        out[col.name] = values
    return pd.DataFrame(out)


def metadata(schema: Schema) -> dict:
    return {"columns": {c.name: {"sdtype": _SDTYPE.get(c.kind, "categorical")}
                        for c in schema.columns}}


def reread(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as it would be read back from a CSV synthgen wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.csv"
        write_table(frame, str(path))
        return read_table(path)


def score(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> float:
    from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    report.generate(typed(real, schema), typed(synth, schema), metadata(schema), verbose=False)
    return float(report.get_score())


def run_table(path: Path, models: tuple[str, ...]) -> dict[str, dict[str, float]]:
    train, holdout = split(read_table(path))
    schema = synthgen.detect(train)
    row = {"holdout": {"score": score(train, holdout, schema)}}
    for name in models:
        start = time.perf_counter()
        model = synthgen.fit(train, model=name, schema=schema, seed=0)
        fitted = time.perf_counter() - start
        synth = reread(model.sample(len(holdout), seed=0))
        row[name] = {"score": score(train, synth, schema), "fit_s": fitted}
        if name == "gmm":
            row[name]["k"] = model.describe()["components"]
    return row


def sampling_speed(path: Path, rows: int) -> dict[str, float]:
    """Microseconds per sampled row (the whole `sample`, decoding included)."""
    train, _ = split(read_table(path))
    out = {}
    for name in MODELS:
        model = synthgen.fit(train, model=name, seed=0)
        model.sample(1000, seed=1)  # warm caches
        start = time.perf_counter()
        model.sample(rows, seed=0)
        out[name] = (time.perf_counter() - start) / rows * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--tables", nargs="+", default=list(TABLES))
    parser.add_argument("--speed-rows", type=int, default=200_000)
    args = parser.parse_args()
    wins = 0
    print(f"{'table':<10} {'holdout':>8} {'copula':>8} {'gmm':>8} {'k':>4} "
          f"{'copula fit s':>13} {'gmm fit s':>10}")
    for table in args.tables:
        row = run_table(args.data / f"{table}.csv", MODELS)
        cop, gmm = row["gaussian-copula"], row["gmm"]
        wins += gmm["score"] > cop["score"]
        print(f"{table:<10} {row['holdout']['score']:8.4f} {cop['score']:8.4f} "
              f"{gmm['score']:8.4f} {gmm['k']:4d} {cop['fit_s']:13.2f} {gmm['fit_s']:10.2f}",
              flush=True)
    print(f"gmm beats the copula on {wins} of {len(args.tables)} tables")
    if args.speed_rows and "adult" in args.tables:
        speed = sampling_speed(args.data / "adult.csv", args.speed_rows)
        print(f"sampling adult, {args.speed_rows} rows: " + ", ".join(
            f"{k} {v:.2f} us/row" for k, v in speed.items())
            + f" (gmm / copula = {speed['gmm'] / speed['gaussian-copula']:.2f})")


if __name__ == "__main__":
    main()
