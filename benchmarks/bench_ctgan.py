"""synthgen's CTGAN against SDV 2.0's CTGANSynthesizer: speed on adult, quality on the real tables.

    python benchmarks/bench_ctgan.py speed --data ../shared/datasets --threads 1
    python benchmarks/bench_ctgan.py quality --data ../shared/datasets --tables titanic --epochs 100

`speed`: both sides fit the same 80% training rows of adult (seed 0) with the same batch size
(500) and torch thread count, twice each, with `--short` and `--long` epochs; time per epoch is
(T_long - T_short) / (long - short) and preprocessing (everything before the first epoch) is
T_short - short x per-epoch. A fit on 200 rows first loads what each side imports, so library
import time counts for neither. synthgen runs with early stopping off here (early stopping holds
out 10% of the rows, which would shorten its epochs); its schema detection is inside its timed fit,
SDV's metadata detection is not.

`quality`: the protocol of the shared datasets: split 80/20 with seed 0, fit on the 80% with
each side's defaults but the epochs (synthgen: early stopping on, batch 500 or smaller for a small
table; SDV: batch 500), sample as many rows as the 20% holdout, score the sample against the 80% with SDMetrics' QualityReport
(metadata detected by SDV from the training rows). Each (table, model) result is appended to
`--out` as a JSON line as soon as it is known, and the table printed at the end.

Needs the `sdv` and `dev` extras (SDV and SDMetrics are the yardstick, never a synthgen dependency).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 0
BATCH = 500


def split(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shared datasets' protocol: 80% training rows, 20% holdout, shuffled with seed 0."""
    order = np.random.default_rng(SEED).permutation(len(table))
    holdout = int(round(0.2 * len(table)))
    return (table.iloc[order[holdout:]].reset_index(drop=True),
            table.iloc[order[:holdout]].reset_index(drop=True))


def load(data: str, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table with typed columns (numbers, dates, booleans), as SDV and SDMetrics want them;
    both sides fit the same typed frame."""
    import synthgen

    table = pd.read_csv(Path(data) / f"{name}.csv", na_values=["?"], skipinitialspace=True)
    for col in synthgen.detect(table).columns:
        if col.kind == "datetime":
            table[col.name] = pd.to_datetime(table[col.name], format=col.format)
    return split(table)


def sdv_metadata(train: pd.DataFrame) -> Any:
    from sdv.metadata import Metadata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Metadata.detect_from_dataframes({"table": train})


def fit_ours(train: pd.DataFrame, epochs: int, threads: int, **params: Any) -> Any:
    import synthgen

    return synthgen.fit(train, model="ctgan", seed=SEED, epochs=epochs, threads=threads, **params)


def fit_sdv(train: pd.DataFrame, metadata: Any, epochs: int) -> Any:
    import torch
    from sdv.single_table import CTGANSynthesizer

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    synth = CTGANSynthesizer(metadata, epochs=epochs, batch_size=BATCH, enable_gpu=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth.fit({"table": train})
    return synth


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def speed(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    train, _ = load(args.data, args.table)
    metadata = sdv_metadata(train)
    warm = train.iloc[:200]
    fit_ours(warm, 1, args.threads, early_stop=False, batch_size=100)
    fit_sdv(warm, sdv_metadata(warm), 1)
    rows = []
    for side in ("synthgen", "sdv"):
        t = {}
        for epochs in (args.short, args.long):
            if side == "synthgen":
                t[epochs] = timed(fit_ours, train, epochs, args.threads, early_stop=False,
                                  batch_size=BATCH)
            else:
                t[epochs] = timed(fit_sdv, train, metadata, epochs)
            print(f"{side} {epochs} epochs: {t[epochs][0]:.1f} s wall, {t[epochs][1]:.1f} s CPU",
                  flush=True)
        row: dict[str, Any] = {"side": side}
        for i, clock in enumerate(("wall", "cpu")):
            per_epoch = (t[args.long][i] - t[args.short][i]) / (args.long - args.short)
            row[f"per_epoch_{clock}_s"] = per_epoch
            row[f"preprocess_{clock}_s"] = t[args.short][i] - args.short * per_epoch
        rows.append(row)
    ours, sdv = rows
    print(f"\n{args.table}: {len(train):,} training rows, batch {BATCH}, "
          f"torch threads {args.threads}\n")
    print("| | synthgen ctgan | SDV CTGANSynthesizer | ratio |")
    print("|---|---:|---:|---:|")
    for clock in ("wall", "cpu"):
        for key, label in (("per_epoch", "time per epoch"), ("preprocess", "preprocessing")):
            k = f"{key}_{clock}_s"
            print(f"| {label}, {clock} (s) | {ours[k]:.2f} | {sdv[k]:.2f} | {ours[k] / sdv[k]:.3f} |")
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(json.dumps({"bench": "speed", "table": args.table,
                                 "threads": args.threads, "rows": rows}) + "\n")


def quality_score(train: pd.DataFrame, synth: pd.DataFrame, metadata: Any) -> float:
    """SDMetrics' QualityReport score. Datetime columns are cast to the real table's unit first:
    SDMetrics compares datetimes as integers, so a sample in microseconds against a table in
    nanoseconds scores 0 with the same instants."""
    from sdmetrics.reports.single_table import QualityReport

    synth = synth.copy()
    for name in train.columns:
        if pd.api.types.is_datetime64_any_dtype(train[name]):
            synth[name] = synth[name].astype(train[name].dtype)

    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(train, synth, metadata.to_dict()["tables"]["table"], verbose=False)
    return float(report.get_score())


def quality(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    results = []
    for name in args.tables.split(","):
        train, holdout = load(args.data, name)
        metadata = sdv_metadata(train)
        for model in args.models.split(","):
            start = time.perf_counter()
            extra: dict[str, Any] = {}
            if model == "synthgen":
                fitted = fit_ours(train, args.epochs, args.threads)
                fit_s = time.perf_counter() - start
                synth = fitted.sample(len(holdout), seed=SEED)
                info = fitted.describe()
                extra = {"epochs_run": info["epochs_run"], "chosen_epoch": info["chosen_epoch"]}
            else:
                fitted = fit_sdv(train, metadata, args.epochs)
                fit_s = time.perf_counter() - start
                synth = fitted.sample(len(holdout))["table"]  # SDV 2.0: a dict of tables
            score = quality_score(train, synth, metadata)
            row = {"bench": "quality", "table": name, "model": model, "epochs": args.epochs,
                   "threads": args.threads, "score": score, "fit_s": fit_s, **extra}
            print(json.dumps(row), flush=True)
            results.append(row)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    print("\n| table | model | epochs (run / chosen) | fit (s) | QualityReport |")
    print("|---|---|---|---:|---:|")
    for r in results:
        ep = f"{r['epochs_run']} / {r['chosen_epoch']}" if "epochs_run" in r else str(r["epochs"])
        print(f"| {r['table']} | {r['model']} | {ep} | {r['fit_s']:.0f} | {r['score']:.3f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("speed", "quality"):
        p = sub.add_parser(command)
        p.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets"))
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--out", default=None, help="append results as JSON lines to this file")
    s = sub.choices["speed"]
    s.add_argument("--table", default="adult")
    s.add_argument("--short", type=int, default=1)
    s.add_argument("--long", type=int, default=4)
    q = sub.choices["quality"]
    q.add_argument("--tables", default="titanic,taxis,diamonds,adult")
    q.add_argument("--models", default="synthgen,sdv")
    q.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args(argv)
    speed(args) if args.command == "speed" else quality(args)


if __name__ == "__main__":
    main()
