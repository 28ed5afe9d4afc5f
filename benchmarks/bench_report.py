"""Time synthgen's report beside SDMetrics' QualityReport on the same tables, and check that
the scores agree.

Protocol (as /work/shared/datasets/README.md): split 80/20 with seed 0, fit synthgen's Gaussian
copula on the 80%, sample as many rows as the 20% holdout, then time, alternating and in the same
process (same thread settings):

- sdmetrics: `QualityReport().generate(...)` on frames already typed for it (its input
  conversion is not timed);
- synthgen quality_score: the same score, from the text frames as read;
- synthgen report: `synthgen.report.build` with the holdout (fidelity, detection AUC, mode
  collapse, privacy), then its JSON and HTML; and without the holdout.

Usage:
    python benchmarks/bench_report.py --data /work/shared/datasets --tables adult
    python benchmarks/bench_report.py --data sample_data --tables penguins
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def bench(path: Path, repeats: int) -> dict:
    import numpy as np

    import synthgen
    from synthgen.report import build, fidelity
    from synthgen.schema import detect
    from tests.test_report_fidelity import sdmetrics_frame, sdmetrics_metadata, split

    table = synthgen.read_table(str(path))
    train, holdout = split(table)
    schema = detect(train)
    synth = synthgen.fit(train, schema=schema, seed=0).sample(len(holdout), seed=0)
    out: dict = {"table": path.stem, "rows": len(table), "columns": len(table.columns)}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        typed_train, typed_synth = sdmetrics_frame(train, schema), sdmetrics_frame(synth, schema)
        metadata = sdmetrics_metadata(schema)

        def sdmetrics_report() -> float:
            report = QualityReport()
            report.generate(typed_train, typed_synth, metadata, verbose=False)
            return report.get_score()

        def full_report(with_holdout: bool) -> float:
            report = build(train, synth, schema=schema, holdout=holdout if with_holdout else None)
            report.to_json()
            report.to_html()
            return report.score

        rounds = {"sdmetrics": [], "score": [], "report": [], "report_no_holdout": []}
        for _ in range(repeats):  # alternate, so that a busy moment hits both sides
            t, sd_score = _timed(sdmetrics_report, 1)
            rounds["sdmetrics"].append(t)
            t, ours = _timed(lambda: fidelity.quality_score(train, synth, schema), 1)
            rounds["score"].append(t)
            t, report_score = _timed(lambda: full_report(True), 1)
            rounds["report"].append(t)
            t, _ = _timed(lambda: full_report(False), 1)
            rounds["report_no_holdout"].append(t)
    out.update({k: statistics.median(v) for k, v in rounds.items()})
    out["sdmetrics_score"] = float(sd_score)
    out["synthgen_score"] = float(ours)
    out["difference"] = float(np.abs(ours - sd_score))
    assert abs(report_score - ours) < 1e-12
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "sample_data"), help="folder of CSV files")
    parser.add_argument("--tables", nargs="+", default=None, help="names without .csv")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import sdmetrics  # noqa: F401
    except ImportError:
        print("needs sdmetrics (pip install 'synthgen[dev]')", file=sys.stderr)
        return 6
    folder = Path(args.data)
    names = args.tables or sorted(p.stem for p in folder.glob("*.csv"))
    print(
        f"{'table':10} {'rows':>7} {'sdmetrics':>10} {'score':>8} {'report':>8} "
        f"{'no-hold':>8}  {'sdm score':>9} {'ours':>7} {'diff':>8}"
    )
    for name in names:
        r = bench(folder / f"{name}.csv", args.repeats)
        print(
            f"{r['table']:10} {r['rows']:>7,} {r['sdmetrics']:>9.2f}s {r['score']:>7.2f}s "
            f"{r['report']:>7.2f}s {r['report_no_holdout']:>7.2f}s  "
            f"{r['sdmetrics_score']:>9.4f} {r['synthgen_score']:>7.4f} {r['difference']:>8.1e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
