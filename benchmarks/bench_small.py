"""cart's privacy on small real tables (issue 21): the field protocol's C2ST and DCR share, and the
report's membership-inference AUC, over several seeds, without SDMetrics.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_small --seeds 0,1,2,3,4
    OMP_NUM_THREADS=1 python -m benchmarks.bench_small --params '{"min_leaf": 40}'
    OMP_NUM_THREADS=1 python -m benchmarks.bench_small --data ../shared/datasets --tables titanic

The tables are real ones shipped inside installed packages (scikit-learn's wine, iris, diabetes
and breast cancer; plotly's gapminder, tips and carshare; SDMetrics' student placements; deepecho's
store sales) and sample_data/'s penguins; `--data DIR` adds the CSVs of DIR by name. Per table and
seed: split 80/20 with the seed (`benchmarks.run.split`), fit cart on the 80% with the seed, sample
as many rows as the 80% holds; C2ST as `benchmarks.field` (boosted trees at scikit-learn's
defaults, 100 iterations of 31 leaves, 5 folds, 2 x (1 - AUC); until 2026-12-06 this took the
report's lighter classifier, 30 iterations of 15 leaves, which told fewer rows apart); DCR
share as `benchmarks.field` (the training rows drawn down to the holdout's size); membership
AUC as the report's attack (`synthgen.report.attacks`); quality as the report's score
(`synthgen.compare.fidelity.quality_score`, SDMetrics' definitions) against the training rows;
`past_bounds` the share of synthetic rows holding a number or date past the 5th smallest or 5th
largest training value (`synthgen.report.privacy.extreme_values`).
A holdout of 30 to 70 rows moves the DCR share of one seed by about 0.05: read the mean over
seeds.

Example:
    >>> from benchmarks.bench_small import TABLES
    >>> "wine" in TABLES
    True
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.field import BOOSTING, FOLDS
from benchmarks.run import split

_SK = "sklearn.datasets"
# name: (loader module, loader or package file); every table as its package returns it
TABLES = {
    "wine": (_SK, "load_wine"),
    "iris": (_SK, "load_iris"),
    "diabetes": (_SK, "load_diabetes"),
    "breast_cancer": (_SK, "load_breast_cancer"),
    "student_placements": ("sdmetrics", "demos/single_table/student_placements_real.csv"),
    "tips": ("plotly", "package_data/datasets/tips.csv.gz"),
    "carshare": ("plotly", "package_data/datasets/carshare.csv.gz"),
    "gapminder": ("plotly", "package_data/datasets/gapminder.csv.gz"),
    "stores": ("deepecho", "data/demo.csv"),
    "penguins": ("sample_data", "penguins.csv"),
    "penguins_raw": ("sample_data", "penguins_raw.csv"),
}


def load(name: str, data: Path | None = None) -> pd.DataFrame:
    """One table by name: a CSV of `data`, else a package's (see TABLES)."""
    import importlib

    from synthgen.io import read_table

    if data is not None and (data / f"{name}.csv").exists():
        return read_table(data / f"{name}.csv")
    module, item = TABLES[name]
    if module == _SK:
        loader = getattr(importlib.import_module(module), item)
        kwargs = {"scaled": False} if name == "diabetes" else {}
        return loader(as_frame=True, **kwargs).frame
    if module == "sample_data":
        return read_table(Path(__file__).resolve().parents[1] / "sample_data" / item)
    root = Path(importlib.import_module(module).__file__).parent
    return pd.read_csv(root / item)


def measure(
    table: pd.DataFrame, seed: int, params: dict[str, Any], model_name: str = "cart"
) -> dict[str, Any]:
    """C2ST, DCR share, membership AUC, exact copies (beside the holdout's own share) and
    synthgen's quality score (against the training rows) of a model (cart) on one split of
    `table`."""
    import synthgen
    from synthgen.compare.fidelity import quality_score
    from synthgen.compare.values import prepare
    from synthgen.report import attacks
    from synthgen.report.fidelity import detection
    from synthgen.report.privacy import exact_copies, extreme_values
    from synthgen.report.space import Space, nearest
    from synthgen.report.utility import one_thread

    train, holdout = split(table, seed)
    schema = synthgen.detect(train)
    start = time.perf_counter()
    model = synthgen.fit(train, schema=schema, model=model_name, seed=seed, **params)
    fit_s = time.perf_counter() - start
    synth = model.sample(len(train), seed=seed)
    real = prepare(train, schema, "real")
    fake = prepare(synth, schema, like=real)
    held = prepare(holdout, schema, "holdout", like=real)
    c2st = detection(real, fake, 0, rows=None, folds=FOLDS, repeats=1, **BOOSTING)["c2st"]
    space = Space(real)
    with one_thread():
        r, s, h = space.transform(real), space.transform(fake), space.transform(held)
        some = r[np.sort(np.random.default_rng(0).choice(len(r), len(h), replace=False))]
        d_train, d_holdout = nearest(s, some, 1)[:, 0], nearest(s, h, 1)[:, 0]
    attack = attacks.assess(real, fake, held, space, seed=0)["membership_inference"]
    copies = exact_copies(real, fake, held)
    return {
        "train_rows": len(train),
        "c2st": c2st,
        "dcr_share": float(np.mean(d_train < d_holdout) + 0.5 * np.mean(d_train == d_holdout)),
        "membership_auc": attack.get("auc", float("nan")),
        # shares of synthetic and of holdout rows equal to a training row (issue 21's third bar)
        "copies": copies["synthetic_share"],
        "holdout_copies": copies["baseline_share"],
        "quality": quality_score(train, synth, schema),
        # synthetic rows holding a number or date past the 5th smallest or largest training one
        "past_bounds": extreme_values(real, fake, held)["synthetic_share"],
        "fit_s": fit_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--model", default="cart", help="the model (others for comparison)")
    parser.add_argument("--params", default="{}", help="the model's parameters, as JSON")
    parser.add_argument("--data", type=Path, default=None, help="a folder of more CSVs")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    rows = []
    for name in args.tables.split(","):
        table = load(name, args.data)
        for seed in (int(s) for s in args.seeds.split(",")):
            entry = {"table": name, "seed": seed, **measure(table, seed, params, args.model)}
            print(
                json.dumps(
                    {k: round(v, 3) if isinstance(v, float) else v for k, v in entry.items()}
                )
            )
            rows.append(entry)
    summary = pd.DataFrame(rows).groupby("table", sort=False)
    print(
        summary[
            [
                "train_rows",
                "c2st",
                "dcr_share",
                "membership_auc",
                "quality",
                "copies",
                "past_bounds",
            ]
        ]
        .mean()
        .round(3)
        .to_string()
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
