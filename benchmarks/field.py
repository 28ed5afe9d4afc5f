"""The field's protocol (`python -m benchmarks --protocol field`): the figures a 2026 independent
reproduction of the best tabular models reports (april-tools/tabpc, arXiv 2603.23016), so that
synthgen's models sit beside them.

Per table: split 80/20 with seed 0 (`benchmarks.run.split`); fit on the 80% and sample as many
rows as the 80% holds (seed 0, each model in a fresh process, fit and sample timed); then

- shape and trend: SDMetrics' QualityReport, its Column Shapes and Column Pair Trends properties
  (saturated: a model drawing every column independently scores near the top on shape);
- C2ST: scikit-learn's HistGradientBoostingClassifier (its defaults; categories of up to 32
  values split natively, codes by frequency beyond) telling every training row from every
  synthetic row, mean AUC over 5 stratified folds, reported as 2 x (1 - AUC) clipped to [0, 1]
  (1: indistinguishable), with the column whose shuffling costs the classifier most
  (`synthgen.report.fidelity.detection`);
- coverage and recall (`synthgen.report.collapse.prdc`, k = 5, in the report's encoded space:
  ranks of numbers, one-hot categories): coverage is the share of real rows whose k-NN ball
  (among real rows) holds a synthetic row, recall (beta-recall) the share of real rows inside some
  synthetic row's k-NN ball; every training row against as many synthetic rows;
- DCR share: the share of synthetic rows closer to a training row than to a holdout row (ties
  half), the training rows drawn down to as many as the holdout has (seed 0), distances in the
  same encoded space (0.5: the model stays no nearer the rows it saw than new rows would);
- copies: the share of synthetic rows equal to a training row on every compared column, beside
  the holdout's own share (`synthgen.report.privacy.exact_copies`: issue 21 asks for no more
  than the holdout has).

Nothing in the protocol is subsampled but the training rows of the DCR share (the protocol's own
equal sizes).

Example:
    >>> from benchmarks.field import c2st_of
    >>> round(c2st_of(0.75), 2)
    0.5
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.run import (
    SEED,
    _f,
    _log,
    model_params,
    run_model,
    sdmetrics_quality,
    sdv_metadata,
    split,
)

# The published figures on adult (april-tools/tabpc, arXiv 2603.23016, GPU): shape, trend,
# C2ST, DCR share, and the training time where the paper gives it.
PUBLISHED_ADULT = [
    ("TabPC", 0.9942, 0.9856, 0.855, 0.543, "272 s (GPU)"),
    ("TabDiff", 0.9932, 0.9846, 0.841, 0.549, "11,605 s (GPU)"),
    ("TabSyn", 0.9921, 0.9795, 0.794, 0.507, ""),
    ("shallow mixture model", 0.9924, 0.9814, 0.773, 0.550, "60 s"),
    ("CTGAN", None, None, 0.000, None, ""),
    ("TVAE", None, None, 0.000, None, ""),
]
FOLDS = 5
# HistGradientBoostingClassifier's defaults (max_iter, max_leaf_nodes).
BOOSTING = {"iterations": 100, "leaves": 31}


def c2st_of(auc: float) -> float:
    """2 x (1 - AUC), clipped to [0, 1] (`synthgen.report.fidelity.c2st`)."""
    from synthgen.report.fidelity import c2st

    return c2st(auc)


def score(train: Any, holdout: Any, synthetic: Any, schema: Any, metadata: dict) -> dict:
    """Every figure of the protocol for one synthetic table (see the module's docstring)."""
    from synthgen.columns.typed import typed_frame
    from synthgen.compare.values import prepare
    from synthgen.report.collapse import K, prdc
    from synthgen.report.fidelity import detection
    from synthgen.report.privacy import exact_copies
    from synthgen.report.space import Space, nearest
    from synthgen.report.utility import one_thread

    started = time.perf_counter()
    quality = sdmetrics_quality(
        typed_frame(train, schema), typed_frame(synthetic, schema), metadata
    )
    real = prepare(train, schema, "real")
    fake = prepare(synthetic, schema, like=real)
    held = prepare(holdout, schema, "holdout", like=real)
    detected = detection(real, fake, SEED, rows=None, folds=FOLDS, repeats=1, **BOOSTING)
    space = Space(real)
    with one_thread():
        r, s, h = space.transform(real), space.transform(fake), space.transform(held)
        coverage = prdc(r, s, K)
        some_train = r[np.sort(np.random.default_rng(SEED).choice(len(r), len(h), replace=False))]
        d_train, d_holdout = nearest(s, some_train, 1)[:, 0], nearest(s, h, 1)[:, 0]
    copies = exact_copies(real, fake, held)
    top = detected["giveaway_columns"][:1]
    return {
        "shape": quality["column_shapes"],
        "trend": quality["column_pair_trends"],
        "auc": detected["auc"],
        "c2st": detected["c2st"],
        "giveaway": top[0] if top else None,
        "coverage": coverage["coverage"],
        "recall": coverage["recall"],
        "precision": coverage["precision"],
        # each synthetic row: nearer a training row than any holdout row? (a tie counts half)
        "dcr_share": float(np.mean(d_train < d_holdout) + 0.5 * np.mean(d_train == d_holdout)),
        "copies": copies["synthetic_share"],
        "holdout_copies": copies["baseline_share"],
        "score_s": time.perf_counter() - started,
    }


def bench_table(path: Path, models: list[str], epochs: int | None, isolate: bool = True) -> dict:
    """Every model on one table under the field's protocol."""
    import synthgen
    from synthgen.columns.typed import typed_frame
    from synthgen.io import read_table

    train, holdout = split(read_table(path))
    schema = synthgen.detect(train)
    metadata = sdv_metadata(typed_frame(train, schema))
    result: dict[str, Any] = {
        "table": path.stem,
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "columns": len(schema.columns),
        "models": [],
    }
    for name in models:
        _log(f"{path.stem}: {name} {model_params(name, epochs) or ''} (field protocol)")
        entry, synthetic = run_model(name, model_params(name, epochs), train, len(train), isolate)
        result["models"].append(entry)
        if synthetic is None:
            continue
        entry.update(score(train, holdout, synthetic, schema, metadata))
        _log(
            f"  fit {entry['fit_s']:.1f}s, sample {entry['sample_s']:.1f}s, shape "
            f"{entry['shape']:.4f}, trend {entry['trend']:.4f}, C2ST {entry['c2st']:.3f}, "
            f"coverage {entry['coverage']:.3f}, DCR share {entry['dcr_share']:.3f} "
            f"(scored in {entry['score_s']:.0f}s)"
        )
    return result


def markdown(results: dict[str, Any]) -> str:
    """The field protocol's table, then the published adult figures beside ours."""
    env = results["environment"]
    lines = [
        f"Command: `{results['command']}` ({results['date']}, {env['cpus']} CPUs, "
        f"synthgen {env['versions']['synthgen']}, SDMetrics {env['versions']['sdmetrics']})",
        "",
        "| table | model | shape | trend | C2ST (AUC) | most telling column | coverage | recall "
        "| DCR share | copies (holdout's) | fit s | sample s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for table in results["tables"]:
        for e in table["models"]:
            if "error" in e:
                lines.append(
                    f"| {table['table']} | {e['model']} | failed: {e['error']} |" + " |" * 10
                )
                continue
            give = e["giveaway"]
            told = f"{give['column']} ({give['importance']:.2f})" if give else ""
            lines.append(
                f"| {table['table']} | {_label(e)} | {_f(e['shape'], 4)} | {_f(e['trend'], 4)} "
                f"| {_f(e['c2st'])} ({_f(e['auc'])}) | {told} | {_f(e['coverage'])} "
                f"| {_f(e['recall'])} | {_f(e['dcr_share'])} "
                f"| {_f(e.get('copies'), 4)} ({_f(e.get('holdout_copies'), 4)}) | {_f(e['fit_s'], 1)} "
                f"| {_f(e['sample_s'], 1)} |"
            )
    adult = next((t for t in results["tables"] if t["table"] == "adult"), None)
    if adult is not None:
        lines += [
            "",
            "adult beside the published figures (april-tools/tabpc, arXiv 2603.23016; GPU):",
            "",
            "| model | shape | trend | C2ST | DCR share | training time |",
            "|---|---|---|---|---|---|",
        ]
        for name, shape, trend, c2st, dcr, seconds in PUBLISHED_ADULT:
            lines.append(
                f"| {name} (published) | {_f(shape, 4)} | {_f(trend, 4)} | {_f(c2st)} "
                f"| {_f(dcr)} | {seconds} |"
            )
        for e in adult["models"]:
            if "error" not in e:
                lines.append(
                    f"| synthgen {_label(e)} | {_f(e['shape'], 4)} | {_f(e['trend'], 4)} "
                    f"| {_f(e['c2st'])} | {_f(e['dcr_share'])} | {_f(e['fit_s'], 1)} s (CPU) |"
                )
    if results["skipped"]:
        lines += ["", *(f"- skipped {name}: {why}" for name, why in results["skipped"].items())]
    return "\n".join(lines) + "\n"


def _label(entry: dict[str, Any]) -> str:
    params = entry.get("params") or {}
    return entry["model"] + "".join(f" ({k} {v})" for k, v in params.items())
