"""The differentially private models (aim, mst) against epsilon, under the benchmark protocol.

Protocol: `benchmarks.run`'s 80/20 split with seed 0 (adult read with na_values ["?"]); each
model fitted on the 80% with the given epsilon (delta 1e-6, the domain found privately with a
tenth of the budget), sampled as many rows as the holdout, scored by SDMetrics' QualityReport
against the 80%; then synthgen's report with the holdout gives the membership-inference AUC
(training rows against holdout rows, by distance to the closest synthetic row). One line per
(model, epsilon): quality, its two properties, fit seconds (wall and CPU: on a busy machine the
CPU seconds, over the cores used, are the better guide), AUC with its interval. With
`--schema FILE` (one table): that schema is public (`synthgen fit --schema`: its bounds and
categories cost no budget, its rules are kept); then the quality of the same fitted model's own
draws decoded without the rules, and each rule's share of broken rows (against the 80%)
without -> with them.

Usage:
    python benchmarks/bench_dp.py --data /work/shared/datasets --tables adult --epsilons 1,10
    synthgen schema adult.csv --na-values "?" -o adult.json
    python benchmarks/bench_dp.py --data /work/shared/datasets --tables adult --models mst \
        --epsilons 1,10 --schema adult.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench(
    path: Path,
    models: list[str],
    epsilons: list[float],
    metadata_file: Path | None,
    schema_file: Path | None = None,
) -> None:
    import json

    import pandas as pd

    from benchmarks.run import SEED, sdmetrics_quality, sdv_metadata, split
    from synthgen import Schema, detect
    from synthgen.columns.typed import typed_frame
    from synthgen.models import create
    from synthgen.report import build
    from synthgen.rules.check import broken_shares

    table = pd.read_csv(path, na_values=["?"], skipinitialspace=True)
    train, holdout = split(table)
    schema = detect(train)
    typed_train = typed_frame(train, schema)
    # SDV detects the metadata; where it is not installed beside opendp, a file of it
    metadata = json.loads(metadata_file.read_text()) if metadata_file else sdv_metadata(typed_train)
    public = {"public_schema": Schema.load(str(schema_file))} if schema_file else {}
    rules = public["public_schema"].rules if public else []
    for name in models:
        for epsilon in epsilons:
            model = create(name, epsilon=epsilon)
            start, cpu = time.perf_counter(), time.process_time()
            model.fit(train, seed=SEED, **public)
            fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
            synthetic = model.sample(len(holdout), seed=SEED)
            quality = sdmetrics_quality(typed_train, typed_frame(synthetic, schema), metadata)
            mi = build(train, synthetic, holdout=holdout).privacy["membership_inference"]
            shapes = " ".join(f"{c} {s:.2f}" for c, s in quality["shapes"].items())
            print(
                f"{path.stem} {name} epsilon {epsilon:g}: quality {quality['score']:.3f} "
                f"(shapes {quality['column_shapes']:.3f}, pairs "
                f"{quality['column_pair_trends']:.3f}), fit {fit_s:.0f} s ({cpu_s:.0f} s of CPU), "
                f"membership AUC "
                f"{mi['auc']:.3f} [{mi['interval'][0]:.3f}, {mi['interval'][1]:.3f}] | {shapes}",
                flush=True,
            )
            if not rules:
                continue
            # the same fitted model's own draws, decoded without the rules (what it gave
            # before it kept them): the rules' cost or gain, free of the fit's noise
            kept, model.encoder_ = model.encoder_, model.user_encoder_
            drawn = model.sample(len(holdout), seed=SEED)
            model.encoder_ = kept
            plain = sdmetrics_quality(typed_train, typed_frame(drawn, schema), metadata)
            print(
                f"  its draws without the rules: quality {plain['score']:.3f} (shapes "
                f"{plain['column_shapes']:.3f}, pairs {plain['column_pair_trends']:.3f})",
                flush=True,
            )
            shares = zip(
                rules,
                broken_shares(rules, synthetic, train, schema),
                broken_shares(rules, drawn, train, schema),
            )
            for rule, share, before in shares:
                print(f"  {rule.text()}: broken in {before:.4f} -> {share:.4f} of rows", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "sample_data")
    parser.add_argument("--tables", default="penguins")
    parser.add_argument("--models", default="aim,mst")
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument(
        "--metadata",
        type=Path,
        help="SDMetrics metadata JSON of the training table (what benchmarks.run.sdv_metadata "
        "gives), for an environment without SDV",
    )
    parser.add_argument(
        "--schema",
        type=Path,
        help="a public schema (synthgen schema's JSON) for every table: its bounds and "
        "categories cost no budget, its rules are kept and checked",
    )
    args = parser.parse_args(argv)
    for name in args.tables.split(","):
        bench(
            args.data / f"{name}.csv",
            args.models.split(","),
            [float(e) for e in args.epsilons.split(",")],
            args.metadata,
            args.schema,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
