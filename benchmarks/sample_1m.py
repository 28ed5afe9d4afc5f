"""Issue 2, point 2: `synthgen sample` of 1,000,000 adult-like rows to Parquet takes at most twice
the time pandas takes to write the same 1M-row frame to Parquet; SDV's GaussianCopulaSynthesizer
sampling as many rows, for comparison.

The model is synthgen's Gaussian copula fitted on the 80% split of `adult` (or of the largest
table when there is no adult). `synthgen sample` runs as a user runs it: a new process that loads
the model file and streams Parquet (interpreter start and imports included); the same stream
in-process is timed too. pandas writes the frame that `synthgen sample` wrote, read back, with
`DataFrame.to_parquet` (pyarrow, snappy). Each of those is timed `REPEATS` times, alternating, and
the median kept; SDV's sampling (its own `sample(rows)`, then `to_parquet`) once.
"""

from __future__ import annotations

import functools
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.run import SEED, _log, split

REPEATS = 3
MODEL = "gaussian-copula"


def pick_table(paths: list[Path]) -> Path:
    """`adult` when it is there, else the largest CSV."""
    for path in paths:
        if path.stem == "adult":
            return path
    return max(paths, key=lambda p: p.stat().st_size)


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(paths: list[Path], rows: int = 1_000_000) -> dict[str, Any]:
    """Seconds for each way of writing `rows` synthetic rows to Parquet, and their ratios."""
    import synthgen
    from synthgen.io import open_stream_writer, read_table
    from synthgen.models import REGISTRY

    path = pick_table(paths)
    train, _ = split(read_table(path))
    model = synthgen.fit(train, model=MODEL, seed=SEED)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_file = folder / "model.synthgen"
        model.save(str(model_file))
        cli_out, stream_out, pandas_out = (folder / f"{n}.parquet" for n in ("cli", "in", "pd"))
        command = [
            sys.executable,
            "-c",
            "from synthgen.cli import main; main()",
            "sample",
            str(model_file),
            "-n",
            str(rows),
            "-o",
            str(cli_out),
            "--seed",
            str(SEED),
            "--force",
            "--quiet",
        ]

        def stream() -> None:
            with open_stream_writer(stream_out, "parquet", force=True) as writer:
                for chunk in model.iter_sample(rows, seed=SEED):
                    writer.write(chunk)

        cli_s, stream_s, pandas_s, dict_s = [], [], [], []
        for repeat in range(REPEATS):
            _log(f"sample-1m: synthgen sample {rows:,} rows of {path.stem} to Parquet")
            cli_s.append(_timed(functools.partial(subprocess.run, command, check=True)))
            stream_s.append(_timed(stream))
            if repeat == 0:
                # the very rows `synthgen sample` wrote, as pandas holds them by default (text
                # as strings: what `model.sample()` returns, and what the figure for
                # SDV, 23x pandas, implies), and as read back (text of few values comes back
                # as pandas categories, the cheapest frame there is to write)
                as_read = pd.read_parquet(cli_out)
                frame = as_read.astype(
                    {
                        c: object
                        for c in as_read.columns
                        if isinstance(as_read[c].dtype, pd.CategoricalDtype)
                    }
                )
            pandas_s.append(_timed(functools.partial(frame.to_parquet, pandas_out)))
            dict_s.append(_timed(functools.partial(as_read.to_parquet, pandas_out)))
        result: dict[str, Any] = {
            "table": path.stem,
            "rows": rows,
            "columns": frame.shape[1],
            "synthgen_sample_cli_s": round(statistics.median(cli_s), 3),
            "synthgen_sample_in_process_s": round(statistics.median(stream_s), 3),
            "pandas_to_parquet_s": round(statistics.median(pandas_s), 3),
            "pandas_to_parquet_categories_s": round(statistics.median(dict_s), 3),
        }
        result["ratio_cli"] = round(
            result["synthgen_sample_cli_s"] / result["pandas_to_parquet_s"], 2
        )
        result["ratio_in_process"] = round(
            result["synthgen_sample_in_process_s"] / result["pandas_to_parquet_s"], 2
        )
        if REGISTRY["sdv-gaussian-copula"].available():
            _log(f"sample-1m: SDV GaussianCopulaSynthesizer sample {rows:,} rows")
            peer = synthgen.fit(train, model="sdv-gaussian-copula", seed=SEED).synthesizer_
            sampled: dict[str, pd.DataFrame] = {}
            result["sdv_sample_s"] = round(_timed(lambda: sampled.update(peer.sample(rows))), 3)
            write_s = _timed(lambda: sampled["table"].to_parquet(folder / "sdv.parquet"))
            result["sdv_sample_and_write_s"] = round(result["sdv_sample_s"] + write_s, 3)
            result["sdv_ratio"] = round(
                result["sdv_sample_and_write_s"] / result["pandas_to_parquet_s"], 2
            )
    return result


def markdown(result: dict[str, Any]) -> list[str]:
    """Lines of markdown for the results of `measure`."""
    holds = "yes" if result["ratio_cli"] <= 2 else "NO"
    lines = [
        f"Sampling {result['rows']:,} {result['table']}-like rows ({result['columns']} columns) "
        f"to Parquet (issue 2, point 2; median of {REPEATS}):",
        "",
        "| what | seconds | / pandas |",
        "|---|---|---|",
        f"| pandas `to_parquet` of the same rows (text as strings) "
        f"| {result['pandas_to_parquet_s']:.2f} | 1.00 |",
        f"| `synthgen sample` (new process, model file to Parquet) "
        f"| {result['synthgen_sample_cli_s']:.2f} | {result['ratio_cli']:.2f} |",
        f"| synthgen `iter_sample` + Parquet stream, in process "
        f"| {result['synthgen_sample_in_process_s']:.2f} | {result['ratio_in_process']:.2f} |",
    ]
    if "pandas_to_parquet_categories_s" in result:
        cat = result["pandas_to_parquet_categories_s"]
        lines.append(
            f"| pandas `to_parquet` of them as read back (text of few values as categories) "
            f"| {cat:.2f} | {cat / result['pandas_to_parquet_s']:.2f} |"
        )
    if "sdv_sample_s" in result:
        lines.append(
            f"| SDV GaussianCopulaSynthesizer `sample` + `to_parquet` (sample alone "
            f"{result['sdv_sample_s']:.2f} s) | {result['sdv_sample_and_write_s']:.2f} "
            f"| {result['sdv_ratio']:.2f} |"
        )
    lines += ["", f"`synthgen sample` within 2x pandas: {holds}"]
    return lines
