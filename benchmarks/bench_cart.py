"""CART (issue 9): fidelity against the holdout's own score, and privacy, on every table.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_cart --data ../shared/datasets
    OMP_NUM_THREADS=1 python -m benchmarks.bench_cart --data ../shared/datasets --ablation

The copula's protocol (`benchmarks.run`): 80/20 split with seed 0, fit on the 80% with seed 0,
sample the holdout's size with seed 0, SDMetrics' QualityReport against the 80%; the holdout's own
score is the ceiling. Privacy is synthgen's report against the 80% with the 20% as holdout: the
share of synthetic rows closer to training than holdout rows are (DCR; at most 0.55 wanted), and
exact copies of training rows against holdout rows that happen to equal one.

`--ablation` fits the variants that each drop one privacy measure (leaves of 5 rows, synthpop's
default; no smoothing; copies allowed; rare categories written) and synthpop's plain CART (all of
them dropped), to show what each measure costs in fidelity and buys in privacy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks.run import sdmetrics_quality, sdv_metadata, split

TABLES = ("adult", "taxis", "titanic", "diamonds")
VARIANTS: dict[str, dict[str, Any]] = {
    "cart": {},
    "leaves of 5": {"min_leaf": 5},
    "no smoothing": {"smoothing": 0.0},
    "copies allowed": {"allow_copies": True},
    "rare written": {"rare_threshold": 0},
    "plain (synthpop-like)": {
        "min_leaf": 5,
        "smoothing": 0.0,
        "allow_copies": True,
        "rare_threshold": 0,
    },
}


def run_table(path: Path, variants: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    import synthgen
    from synthgen.columns.typed import typed_frame
    from synthgen.io import read_table
    from synthgen.report import build

    train, holdout = split(read_table(path))
    schema = synthgen.detect(train)
    typed_train = typed_frame(train, schema)
    metadata = sdv_metadata(typed_train)
    ceiling = sdmetrics_quality(typed_train, typed_frame(holdout, schema), metadata)["score"]
    out = []
    for label, params in variants.items():
        start = time.perf_counter()
        model = synthgen.fit(train, schema=schema, model="cart", seed=0, **params)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        synth = model.sample(len(holdout), seed=0)
        sample_s = time.perf_counter() - start
        score = sdmetrics_quality(typed_train, typed_frame(synth, schema), metadata)["score"]
        privacy = build(train, synth, schema=schema, holdout=holdout).privacy
        copies = privacy["exact_copies"]
        out.append(
            {
                "table": path.stem,
                "variant": label,
                "holdout": ceiling,
                "score": score,
                "ratio": score / ceiling,
                "closer": privacy["dcr"]["closer_share"],
                "copies": copies["synthetic_share"],
                "holdout_copies": copies["baseline_share"],
                "verdict": privacy["verdict"],
                "fit_s": fit_s,
                "sample_s": sample_s,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cart", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("sample_data"))
    parser.add_argument("--tables", default=",".join(TABLES), help="comma-separated file stems")
    parser.add_argument("--ablation", action="store_true", help="also the variants (see above)")
    args = parser.parse_args(argv)
    variants = VARIANTS if args.ablation else {"cart": VARIANTS["cart"]}
    print(
        "| table | variant | holdout | cart | ratio | closer share | copies | holdout copies "
        "| privacy | fit s | sample s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for table in args.tables.split(","):
        for r in run_table(args.data / f"{table}.csv", variants):
            print(
                f"| {r['table']} | {r['variant']} | {r['holdout']:.4f} | {r['score']:.4f} "
                f"| {r['ratio']:.3f} | {r['closer']:.3f} | {r['copies']:.4f} "
                f"| {r['holdout_copies']:.4f} | {r['verdict']} | {r['fit_s']:.2f} "
                f"| {r['sample_s']:.2f} |",
                flush=True,
            )
            if r["variant"] == "cart":
                ok &= (
                    r["ratio"] >= 0.97
                    and r["closer"] <= 0.55
                    and r["copies"] <= r["holdout_copies"]
                    and r["verdict"] == "pass"
                )
    print(
        f"\nevery table: ratio >= 0.97, closer share <= 0.55, copies <= holdout's, "
        f"verdict pass: {'yes' if ok else 'NO'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
