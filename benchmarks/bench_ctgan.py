"""synthgen's CTGAN against SDV 2.0's CTGANSynthesizer (issue 5): speed on adult, quality on the
real tables.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_ctgan speed --data ../shared/datasets --threads 1
    OMP_NUM_THREADS=1 python -m benchmarks.bench_ctgan quality --data ../shared/datasets

Both use the shared protocol's 80% training rows (`benchmarks.run.split`, seed 0). synthgen fits
the rows as `read_table` gives them (as the CLI does); SDV fits them typed (`typed_frame`: numbers
as numbers, dates as datetimes) with the metadata SDV detects from them. torch runs with
`--threads` threads on both sides.

`speed`: each side fits twice, with `--short` and `--long` epochs, batch 500. Time per epoch is
(T_long - T_short) / (long - short); preprocessing (everything before the first epoch) is
T_short - short x per-epoch. Wall and CPU seconds of this process are both given: wall is what a
user waits, CPU is steadier on a shared machine (SDV spends part of its preprocessing in joblib
worker processes, which this process's CPU time does not count, so SDV's CPU preprocessing is
understated). A fit on 200 rows first loads what each side imports, so import time counts for
neither. synthgen runs with early stopping off (its validation split would shorten its epochs).

`quality`: fit on the 80% with each side's defaults but `--epochs` (synthgen: early stopping on,
batch 500 or smaller for a small table; SDV: batch 500), sample as many rows as the 20% holdout
(seed 0), and score the sample against the 80% with SDMetrics' QualityReport
(`benchmarks.run.sdmetrics_quality`), beside the mode-collapse verdict of synthgen's report. Each
result is appended to `--out` as a JSON line as soon as it is known; the table is printed at the
end.

Needs the `sdv` and `dev` extras: SDV and SDMetrics are the yardstick, never synthgen dependencies.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.run import SEED, sdmetrics_quality, sdv_metadata, split

BATCH = 500


def load(data: str, name: str) -> dict[str, Any]:
    """The table's training rows (as read, and typed), holdout, schema and SDV metadata."""
    import synthgen
    from synthgen.columns.typed import typed_frame
    from synthgen.io import read_table

    train, holdout = split(read_table(Path(data) / f"{name}.csv"))
    schema = synthgen.detect(train)
    typed = typed_frame(train, schema)
    return {
        "train": train,
        "typed": typed,
        "holdout_rows": len(holdout),
        "schema": schema,
        "metadata": sdv_metadata(typed),
    }


def fit_ours(table: dict[str, Any], epochs: int, threads: int, **params: Any) -> Any:
    import synthgen

    return synthgen.fit(
        table["train"],
        model="ctgan",
        schema=table["schema"],
        seed=SEED,
        epochs=epochs,
        threads=threads,
        **params,
    )


def fit_sdv(table: dict[str, Any], epochs: int) -> Any:
    import numpy as np
    import torch
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    metadata = Metadata.load_from_dict({"tables": {"table": table["metadata"]}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth = CTGANSynthesizer(metadata, epochs=epochs, batch_size=BATCH, enable_gpu=False)
        synth.fit({"table": table["typed"]})
    return synth


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def speed(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    table = load(args.data, args.table)
    warm = load(args.data, args.table)
    warm.update(train=warm["train"].head(200), typed=warm["typed"].head(200))
    fit_ours(warm, 1, args.threads, early_stop=False, batch_size=100)
    fit_sdv(warm, 1)
    rows = []
    for side in ("synthgen", "sdv"):
        t = {}
        for epochs in (args.short, args.long):
            if side == "synthgen":
                t[epochs] = timed(
                    fit_ours, table, epochs, args.threads, early_stop=False, batch_size=BATCH
                )
            else:
                t[epochs] = timed(fit_sdv, table, epochs)
            print(
                f"{side} {epochs} epochs: {t[epochs][0]:.1f} s wall, {t[epochs][1]:.1f} s CPU",
                flush=True,
            )
        row: dict[str, Any] = {"side": side}
        for i, clock in enumerate(("wall", "cpu")):
            per_epoch = (t[args.long][i] - t[args.short][i]) / (args.long - args.short)
            row[f"per_epoch_{clock}_s"] = per_epoch
            row[f"preprocess_{clock}_s"] = t[args.short][i] - args.short * per_epoch
        rows.append(row)
    ours, sdv = rows
    print(
        f"\n{args.table}: {len(table['train']):,} training rows, batch {BATCH}, "
        f"torch threads {args.threads}\n"
    )
    print("| | synthgen ctgan | SDV CTGANSynthesizer | ratio |")
    print("|---|---:|---:|---:|")
    for clock in ("wall", "cpu"):
        for key, label in (("per_epoch", "time per epoch"), ("preprocess", "preprocessing")):
            k = f"{key}_{clock}_s"
            print(
                f"| {label}, {clock} (s) | {ours[k]:.2f} | {sdv[k]:.2f} | {ours[k] / sdv[k]:.3f} |"
            )
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(
                json.dumps(
                    {
                        "bench": "speed",
                        "table": args.table,
                        "threads": args.threads,
                        "short": args.short,
                        "long": args.long,
                        "rows": rows,
                    }
                )
                + "\n"
            )


def collapse_verdict(table: dict[str, Any], synthetic: pd.DataFrame) -> dict[str, Any]:
    """synthgen's report on mode collapse: the verdict and its reasons."""
    from synthgen.compare.values import prepare
    from synthgen.report.collapse import assess

    real = prepare(table["train"], table["schema"], role="real")
    found = assess(real, prepare(synthetic, table["schema"], like=real))
    return {"verdict": found["verdict"], "reasons": found["reasons"]}


def quality(args: argparse.Namespace) -> None:
    import torch

    from synthgen.columns.typed import typed_frame

    torch.set_num_threads(args.threads)
    results = []
    for name in args.tables.split(","):
        table = load(args.data, name)
        for model in args.models.split(","):
            start = time.perf_counter()
            extra: dict[str, Any] = {}
            if model == "synthgen":
                fitted = fit_ours(table, args.epochs, args.threads)
                fit_s = time.perf_counter() - start
                synthetic = fitted.sample(table["holdout_rows"], seed=SEED)
                info = fitted.describe()
                extra = {
                    "epochs_run": info["epochs_run"],
                    "chosen_epoch": info["chosen_epoch"],
                    "batch_size": info["batch_size"],
                }
            else:
                fitted = fit_sdv(table, args.epochs)
                fit_s = time.perf_counter() - start
                synthetic = fitted.sample(table["holdout_rows"])["table"]  # SDV 2.0: a dict
            synthetic = typed_frame(synthetic, table["schema"])
            score = sdmetrics_quality(table["typed"], synthetic, table["metadata"])["score"]
            row = {
                "bench": "quality",
                "table": name,
                "model": model,
                "epochs": args.epochs,
                "threads": args.threads,
                "score": score,
                "fit_s": fit_s,
                **extra,
                "collapse": collapse_verdict(table, synthetic),
            }
            print(json.dumps(row), flush=True)
            results.append(row)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
    print("\n| table | model | epochs (run / chosen) | fit (s) | QualityReport | mode collapse |")
    print("|---|---|---|---:|---:|---|")
    for r in results:
        ep = f"{r['epochs_run']} / {r['chosen_epoch']}" if "epochs_run" in r else str(r["epochs"])
        print(
            f"| {r['table']} | {r['model']} | {ep} | {r['fit_s']:.0f} | {r['score']:.3f} | "
            f"{r['collapse']['verdict']} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("speed", "quality"):
        p = sub.add_parser(command)
        p.add_argument("--data", default="sample_data")
        p.add_argument("--threads", type=int, default=1, help="torch threads, both sides")
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
