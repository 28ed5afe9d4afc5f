"""Side-by-side benchmark of synthgen's models and SDV's, under one protocol.

    python -m benchmarks --data ../shared/datasets --models gaussian-copula,sdv-gaussian-copula
    python -m benchmarks --data ../shared/datasets --tables adult --sample-1m

For every CSV in `--data` (default `sample_data/`), read with `synthgen.io.read_table` (so "?" is
missing): split 80/20 with seed 0, fit each model on the 80% (seed 0), sample as many rows as the
20% holdout (seed 0), and score the sample against the 80% with SDMetrics' QualityReport (metadata
detected by SDV from the typed training rows) and with synthgen's own report when it is installed;
the holdout scored the same way is the ceiling a perfect generator would reach. Each model runs in
a fresh process (spawned): a first fit on 100 rows loads what the model imports, then fit and
sample are timed, and their peak resident memory is read from Linux's /proc (`VmHWM`, reset just
before the fit), beside the memory the process held before fitting (interpreter, libraries,
data). SDV's models and synthgen's see the same frames.

`--seeds N` also fits and samples every model with seeds 1 .. N-1 on the same split and reports
SDMetrics quality's mean and standard deviation beside seed 0's (auto's bar read on both).

`--protocol field` measures instead what the field publishes (sample the training set's size;
shape, trend, C2ST, coverage, DCR share: see `benchmarks.field`).

`--sample-1m` also measures sampling 1,000,000 adult-like rows to Parquet (`synthgen sample`, as a
user runs it) against pandas writing the same frame to Parquet, and SDV's GaussianCopulaSynthesizer
sampling 1,000,000 rows. Results: a markdown table and a JSON file in `--out` (default
`bench-out/`); the table is printed too.

The benchmark needs the `sdv` and `dev` extras (SDV, SDMetrics): they are the yardstick here, and
never a dependency of synthgen itself.
"""
