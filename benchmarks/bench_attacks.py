"""Privacy attacks of the report (membership and attribute inference) on real tables, and what
they add to the report's time.

Protocol: split 80/20 with seed 0 (adult read with na_values ["?"]); synthetic tables: the
training table itself, half the holdout judged against the other half (real rows never trained
on), synthgen's gaussian-copula and cart samples (as many rows as the training table), and the
independent-columns baseline (each training column shuffled on its own). Each row prints the
membership AUC with its interval, the attribute risks, and the verdicts. Then the report with the
copula sample is timed with and without the attacks, alternating, in one process.

Usage:
    python benchmarks/bench_attacks.py --data /work/shared/datasets --tables adult
    python benchmarks/bench_attacks.py --data sample_data --tables penguins
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def scenarios(train, holdout, seed: int = 0) -> dict:
    import pandas as pd

    import synthgen

    half = len(holdout) // 2
    out = {
        "training table": (train, holdout),
        "holdout rows": (holdout.iloc[:half], holdout.iloc[half:]),
        "independent columns": (
            pd.DataFrame(
                {c: train[c].sample(frac=1, random_state=i).to_numpy() for i, c in enumerate(train)}
            ),
            holdout,
        ),
    }
    for model in ("gaussian-copula", "cart"):
        fitted = synthgen.fit(train, model=model, seed=seed)
        out[model] = (fitted.sample(len(train), seed=seed), holdout)
    return out


def bench(path: Path, repeats: int) -> None:
    import pandas as pd

    from synthgen.report import attacks, build

    table = pd.read_csv(path, na_values=["?"], skipinitialspace=True)
    order = pd.Series(range(len(table))).sample(frac=1, random_state=0).to_numpy()
    cut = int(0.8 * len(table))
    train = table.iloc[order[:cut]].reset_index(drop=True)
    holdout = table.iloc[order[cut:]].reset_index(drop=True)
    cases = scenarios(train, holdout)
    for name, (synth, against) in cases.items():
        privacy = build(train, synth, holdout=against).privacy
        mi, ai = privacy["membership_inference"], privacy["attribute_inference"]
        risks = ", ".join(
            f"{c['column']} {c['risk']:+.3f} [{c['interval'][0]:+.3f}, {c['interval'][1]:+.3f}]"
            for c in ai["columns"]
        )
        print(
            f"{path.stem:9s} {name:20s} AUC {mi['auc']:.3f} [{mi['interval'][0]:.3f}, "
            f"{mi['interval'][1]:.3f}] {mi['verdict']:4s} | risk {risks} {ai['verdict']} | "
            f"privacy {privacy['verdict']}",
            flush=True,
        )
    synth = cases["gaussian-copula"][0]
    real_assess = attacks.assess
    times: dict[str, list[float]] = {"with": [], "without": []}
    build(train, synth, holdout=holdout)  # warm up
    try:
        for _ in range(repeats):  # alternate, so that a busy moment hits both sides
            for mode in ("without", "with"):
                attacks.assess = (
                    real_assess if mode == "with" else lambda *a, **k: attacks.not_checked("off")
                )
                start = time.perf_counter()
                build(train, synth, holdout=holdout)
                times[mode].append(time.perf_counter() - start)
    finally:
        attacks.assess = real_assess
    with_, without = statistics.median(times["with"]), statistics.median(times["without"])
    print(
        f"{path.stem:9s} report with the copula sample: {without:.2f} s without the attacks, "
        f"{with_:.2f} s with (+{with_ / without - 1:.0%}), median of {repeats}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "sample_data")
    parser.add_argument("--tables", default="penguins")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    for name in args.tables.split(","):
        bench(args.data / f"{name}.csv", args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
