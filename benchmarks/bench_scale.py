"""Scale benchmark: streaming sample to Parquet, the pyarrow write floor, the Dask engine, and
fitting a table bigger than memory allows, each in its own process under `/usr/bin/time -v`
(wall time, CPU time and peak resident memory).

    python benchmarks/bench_scale.py --data /work/shared/datasets/adult.csv
    python benchmarks/bench_scale.py --data adult.csv --only sample --sample-rows 1000000,10000000

Steps (--only picks some): `fit` (the model, from --data), `sample` (--sample-rows rows of it
to Parquet, each size in turn), `floor` (pyarrow writing the rows of the smallest sample again,
from memory, with the same row groups), `dask` (--dask-rows rows as a dataset, Dask local cluster of
--workers processes vs the local engine, same partitions), `bigfit` (a --big-gb CSV made from
--data by repeating its rows with perturbed numbers, fitted with --max-rows; deleted after).
Files go under --workdir and are removed at the end. Run it on a quiet machine, or with nice.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def measure(args: list[str], label: str) -> dict:
    """Run a command under /usr/bin/time -v; its wall, CPU and peak RSS, and its stderr."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    cmd = ["/usr/bin/time", "-v", *args]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{label} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")

    def field(name: str) -> float:
        match = re.search(rf"{re.escape(name)}: ([\d.:]+)", done.stderr)
        return float(match.group(1)) if match else float("nan")

    out = {
        "label": label,
        "wall_s": wall,
        "cpu_s": field("User time (seconds)") + field("System time (seconds)"),
        "peak_rss_mib": field("Maximum resident set size (kbytes)") / 1024,
        "stdout": done.stdout,
        "stderr": done.stderr,
    }
    print(
        f"{label:44s} wall {out['wall_s']:8.1f} s  cpu {out['cpu_s']:8.1f} s  "
        f"peak RSS {out['peak_rss_mib']:7.0f} MiB",
        flush=True,
    )
    return out


def synthgen(*args: str) -> list[str]:
    return [PY, "-m", "synthgen", *args]


def sample(model: Path, n: int, out: str, *options: str) -> list[str]:
    """`synthgen sample` of n rows with seed 1 to out, quietly, replacing what is there."""
    return synthgen(
        "sample", str(model), "-n", str(n), "-o", out, "--seed", "1", "--force", "-q", *options
    )


def rows_list(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x]


FLOOR = """
import sys, time, pyarrow.parquet as pq
path, out = sys.argv[1], sys.argv[2]
meta = pq.ParquetFile(path).metadata
table = pq.read_table(path)
wall, cpu = time.perf_counter(), time.process_time()
pq.write_table(table, out, row_group_size=meta.row_group(0).num_rows)
print(f"{table.num_rows} {time.perf_counter() - wall} {time.process_time() - cpu}")
"""

BIG_CSV = """
import sys, numpy as np, pyarrow as pa, pyarrow.csv as pcsv
from synthgen.io import read_table
src, dest, target = sys.argv[1], sys.argv[2], float(sys.argv[3]) * 1024**3
base = read_table(src)
rng = np.random.default_rng(0)
numeric = [c for c in base.columns if base[c].dropna().str.strip().str.fullmatch(r"-?\\d+").all()]
written, copy = 0, 0
with open(dest, "wb") as fh:
    while written < target:
        frame = base.copy()
        for c in numeric:  # perturbed numbers: many distinct values, as in a real big table
            x = frame[c].astype(float).to_numpy()
            scale = rng.uniform(0.95, 1.05, len(x)) if x.max() > 1000 else 1.0
            frame[c] = np.rint(x * scale + rng.integers(-1, 2, len(x)) * (x > 20)).astype("int64")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        options = pcsv.WriteOptions(include_header=copy == 0, quoting_style="none")
        start = fh.tell()
        pcsv.write_csv(table, fh, options)
        written += fh.tell() - start
        copy += 1
print(copy * len(base), written)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/datasets/adult.csv")
    parser.add_argument("--workdir", default="/tmp/synthgen-bench")
    parser.add_argument("--only", default="fit,sample,floor,dask,bigfit")
    parser.add_argument("--sample-rows", default="10000000,100000000")
    parser.add_argument("--dask-rows", default="20000000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--big-gb", type=float, default=2.0)
    parser.add_argument("--max-rows", type=int, default=1_000_000)
    opts = parser.parse_args()
    steps = set(opts.only.split(","))
    work = Path(opts.workdir)
    work.mkdir(parents=True, exist_ok=True)
    model = work / "model.synthgen"
    try:
        if "fit" in steps or not model.exists():
            measure(
                synthgen("fit", opts.data, "-o", str(model), "--seed", "0", "--force", "-q"),
                "fit the model",
            )
        runs = {}
        if "sample" in steps or "floor" in steps:
            start = measure(
                synthgen("sample", str(model), "-n", "1", "-o", str(work / "one.parquet"), "-q"),
                "start, load the model, sample 1 row",
            )
            for n in sorted(rows_list(opts.sample_rows)):
                out = work / f"sample-{n}.parquet"
                runs[n] = run = measure(sample(model, n, str(out)), f"sample {n:,} rows to Parquet")
                print(
                    f"    {n / run['wall_s']:,.0f} rows/s wall, {n / run['cpu_s']:,.0f} rows/s "
                    f"per CPU second, {out.stat().st_size / 1e6:,.0f} MB",
                    flush=True,
                )
                if n != min(runs):
                    os.remove(out)  # the smallest stays for the floor
            sizes = sorted(runs)
            for a, b in zip(sizes, sizes[1:]):
                print(
                    f"    {b:,} vs {a:,} rows: {b / a:.0f}x rows, "
                    f"{runs[b]['wall_s'] / runs[a]['wall_s']:.1f}x wall time, "
                    f"{runs[b]['cpu_s'] / runs[a]['cpu_s']:.1f}x CPU time",
                    flush=True,
                )
        if "floor" in steps and runs:
            n = min(runs)
            out = work / f"sample-{n}.parquet"
            floor = measure(
                [PY, "-c", FLOOR, str(out), str(work / "floor.parquet")],
                f"pyarrow write of the same {n:,} rows",
            )
            rows, wall, cpu = floor["stdout"].split()
            print(
                f"    write alone: wall {float(wall):.1f} s, cpu {float(cpu):.1f} s; sampling "
                f"takes {runs[n]['wall_s'] / float(wall):.2f}x its wall time and "
                f"{runs[n]['cpu_s'] / float(cpu):.2f}x its CPU time; without the start: "
                f"{(runs[n]['wall_s'] - start['wall_s']) / float(wall):.2f}x wall, "
                f"{(runs[n]['cpu_s'] - start['cpu_s']) / float(cpu):.2f}x CPU",
                flush=True,
            )
            os.remove(work / "floor.parquet")
        for n in runs:
            (work / f"sample-{n}.parquet").unlink(missing_ok=True)
        if "dask" in steps:
            n = rows_list(opts.dask_rows)[0]
            parts = str(2 * opts.workers)
            local = {}
            for threads in ("1", str(opts.workers)):
                local[threads] = measure(
                    sample(model, n, f"{work}/local/", "--partitions", parts, "--threads", threads),
                    f"local engine, {threads} thread(s), {n:,} rows, {parts} parts",
                )
            dask = measure(
                [PY, "-c", DASK, str(model), str(work / "dask"), str(n), parts, str(opts.workers)],
                f"dask, {opts.workers} workers, {n:,} rows, {parts} parts",
            )
            same = all(
                (work / "local" / p.name).read_bytes() == p.read_bytes()
                for p in sorted((work / "dask").iterdir())
            )
            for threads, run in local.items():
                print(
                    f"    dask / local with {threads} thread(s), wall time: "
                    f"{dask['wall_s'] / run['wall_s']:.2f}",
                    flush=True,
                )
            print(f"    ({dask['stdout'].strip()}); identical files: {same}", flush=True)
            shutil.rmtree(work / "local")
            shutil.rmtree(work / "dask")
        if "bigfit" in steps:
            big = work / "big.csv"
            made = measure(
                [PY, "-c", BIG_CSV, opts.data, str(big), str(opts.big_gb)],
                f"make a {opts.big_gb:g} GB CSV",
            )
            rows, size = made["stdout"].split()
            print(f"    {int(rows):,} rows, {int(size) / 1e9:.2f} GB", flush=True)
            fit = measure(
                synthgen(
                    "fit",
                    str(big),
                    "-o",
                    str(work / "big.synthgen"),
                    "--max-rows",
                    str(opts.max_rows),
                    "--seed",
                    "0",
                    "--force",
                ),
                f"fit {opts.big_gb:g} GB CSV, --max-rows {opts.max_rows:,}",
            )
            print("    " + " ".join(fit["stderr"].split("\n\tCommand")[0].split()), flush=True)
            os.remove(big)
    finally:
        shutil.rmtree(work, ignore_errors=True)


DASK = """
import sys, time
from synthgen.engines import dask as engine
model, out, n, parts, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
started = time.perf_counter()
with engine.client(workers=workers) as client:
    ready = time.perf_counter()
    engine.sample_to_dataset(model, out, n, seed=1, partitions=parts, dask_client=client)
    done = time.perf_counter()
print(f"cluster start {ready - started:.1f} s, sampling {done - ready:.1f} s")
"""

if __name__ == "__main__":
    main()
