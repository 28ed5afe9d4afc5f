"""What rule discovery costs and finds: on a generated table with planted rules (100 columns,
50,000 rows by default: one or more rules of every kind among independent filler columns) and on
the shared tables.

For each table: the time to detect the columns (`detect` without rules), the time discovery
adds, the rules found and, on the generated table, how many of the planted ones were found and
what else was (every extra rule is a false find: the fillers are independent).

Usage:
    python benchmarks/bench_rules.py
    python benchmarks/bench_rules.py --rows 50000 --data /work/shared/datasets --show
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synthgen.rules import Rule  # noqa: E402

SHARED = ("adult", "diamonds", "taxis", "titanic")


def planted_table(
    n: int = 50_000, columns: int = 100, seed: int = 0
) -> tuple[pd.DataFrame, list[Rule]]:
    """A typed table of `columns` columns: 25 that keep the planted rules (returned), the rest
    independent fillers (numbers, integers, categories of 2 to 40 values, some with nulls)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform
    t: dict[str, object] = {}
    t["fare"] = u(3, 60, n).round(2)
    t["tip"] = u(0, 15, n).round(2)
    t["tolls"] = np.where(u(0, 1, n) < 0.1, 6.55, 0.0)
    t["total"] = (t["fare"] + t["tip"] + t["tolls"]).round(2)
    t["prncp"] = u(500, 30000, n).round(2)
    t["interest"] = u(0, 8000, n).round(2)
    t["late_fee"] = np.where(u(0, 1, n) < 0.03, u(0, 100, n), 0).round(2)
    t["recoveries"] = np.where(u(0, 1, n) < 0.1, u(0, 2000, n), 0).round(2)
    t["total_pymnt"] = (t["prncp"] + t["interest"] + t["late_fee"] + t["recoveries"]).round(2)
    t["gross"] = u(1000, 9000, n).round(2)
    t["tax"] = (t["gross"] * u(0.1, 0.6, n)).round(2)
    t["net"] = (t["gross"] - t["tax"]).round(2)
    t["amount"] = u(1000, 35000, n).round(0)
    t["balance"] = (t["amount"] * u(0, 1, n)).round(2)
    t["flr1"] = rng.integers(500, 2000, n)
    t["flr2"] = np.where(u(0, 1, n) < 0.5, 0, rng.integers(300, 1500, n))
    t["living"] = t["flr1"] + t["flr2"] + np.where(u(0, 1, n) < 0.9, 0, rng.integers(50, 500, n))
    pickup = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), "s")
    t["pickup"] = pickup
    t["dropoff"] = pickup + pd.to_timedelta(rng.integers(60, 7200, n), "s")
    grades = np.array([f"{g}{i}" for g in "ABCDEFG" for i in range(1, 6)])
    t["sub_grade"] = rng.choice(grades, n)
    t["grade"] = np.array([s[0] for s in t["sub_grade"]])
    levels = np.array([f"level {i:02d}" for i in range(1, 17)])
    edu = rng.integers(0, 16, n)
    t["education"], t["edu_num"] = levels[edu], edu + 1
    product = rng.integers(0, 8, n)
    t["product"] = np.array([f"P{i}" for i in range(8)])[product]
    t["variant"] = np.array([f"V{v}" for v in (3 * product + rng.integers(0, 3, n)) % 12])
    t["logwage"] = rng.normal(4.5, 0.4, n).round(4)
    t["wage"] = np.exp(t["logwage"]).round(2)
    gone = u(0, 1, n) < 0.1
    t["m_a"] = np.where(gone, np.nan, rng.normal(50, 10, n).round(1))
    t["m_b"] = np.where(gone, np.nan, rng.integers(0, 100, n).astype(float))
    joint = u(0, 1, n) < 0.2
    t["app_type"] = np.where(joint, "joint", "individual")
    t["joint_income"] = np.where(joint, u(20000, 200000, n).round(0), np.nan)
    planted = [
        Rule("identity", ("fare", "tip", "tolls", "total"), signs=(1, 1, 1)),
        Rule(
            "identity",
            ("prncp", "interest", "late_fee", "recoveries", "total_pymnt"),
            signs=(1, 1, 1, 1),
        ),
        Rule("identity", ("tax", "net", "gross"), signs=(1, 1)),
        Rule("order", ("balance", "amount")),
        Rule("order", ("flr1", "flr2", "living")),
        Rule("order", ("pickup", "dropoff")),
        Rule("dependency", ("sub_grade", "grade")),
        Rule("dependency", ("education", "edu_num")),
        Rule("combination", ("product", "variant")),
        Rule("monotone", ("logwage", "wage"), increasing=True),
        Rule("missing_together", ("m_a", "m_b")),
        Rule("missing_when", ("app_type", "joint_income"), values=("individual",)),
    ]
    for i in range(columns - len(t)):
        kind = i % 4
        if kind == 0:
            x = rng.normal(rng.uniform(-50, 50), rng.uniform(1, 20), n).round(2)
        elif kind == 1:
            lo = int(rng.integers(0, 1000))
            x = rng.integers(lo, lo + int(rng.integers(5, 5000)), n).astype(float)
        elif kind == 2:
            x = rng.choice([f"c{j}" for j in range(int(rng.integers(2, 40)))], n).astype(object)
        else:
            x = rng.exponential(rng.uniform(1, 100), n).round(3)
        if i % 5 == 0:
            x = pd.Series(x).where(u(0, 1, n) > rng.uniform(0.01, 0.2)).to_numpy()
        t[f"filler_{i}"] = x
    return pd.DataFrame(t), planted


def _as_read(table: pd.DataFrame) -> pd.DataFrame:
    """The table as `synthgen schema` would read it from a CSV file (text as written)."""
    import tempfile

    import synthgen

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "planted.csv"
        table.to_csv(path, index=False)
        return synthgen.read_table(str(path))


def measure(name: str, table: pd.DataFrame, planted: list[Rule] | None = None) -> dict:
    from synthgen.rules.discover import discover
    from synthgen.schema import Schema, detect

    start = time.perf_counter()
    schema = detect(table, Schema([]))  # an empty given schema: the columns, no rules
    columns_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    rules = discover(table, schema)
    rules_s, rules_cpu = time.perf_counter() - start, time.process_time() - cpu
    out = {"table": name, "rows": len(table), "columns": table.shape[1], "detect_s": columns_s}
    out.update(discover_s=rules_s, discover_cpu=rules_cpu, rules=rules)
    if planted is not None:
        key = {(r.kind, r.columns) for r in rules}
        out["planted_found"] = sum((p.kind, p.columns) in key for p in planted)
        out["planted"] = len(planted)
        out["extra"] = [
            r for r in rules if (r.kind, r.columns) not in {(p.kind, p.columns) for p in planted}
        ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--data", default="/work/shared/datasets")
    parser.add_argument("--show", action="store_true", help="list every rule found")
    args = parser.parse_args(argv)
    import synthgen

    table, planted = planted_table(args.rows, args.columns)
    results = [measure("planted", _as_read(table), planted)]
    for name in SHARED:
        path = Path(args.data) / f"{name}.csv"
        if path.exists():
            na = ["?"] if name == "adult" else []
            results.append(measure(name, synthgen.read_table(str(path), na_values=na)))
    print(
        "| table | rows x columns | detect columns s | discover rules s | rules found | planted found |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        planted_cell = (
            f"{r['planted_found']} of {r['planted']} (+{len(r['extra'])} other)"
            if "planted" in r
            else ""
        )
        print(
            f"| {r['table']} | {r['rows']:,} x {r['columns']} | {r['detect_s']:.2f} | "
            f"{r['discover_s']:.2f} ({r['discover_cpu']:.2f}) | {len(r['rules'])} | {planted_cell} |"
        )
    if args.show:
        for r in results:
            print(f"\n{r['table']}:")
            for rule in r["rules"]:
                print(f"  - {rule.text()} (share {rule.share:g}, {rule.exceptions} exceptions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
