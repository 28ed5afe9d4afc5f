"""The spread of the trained-model tests' statistics across seeds and kernels: a pytest plugin
that writes the values of every passing assert of a `trained` test to SYNTHGEN_TEST_SPREAD (a
JSON line each), and a report of each assert's smallest and largest values across the runs.
`make test-kernels` uses both; a bound whose observed values come close to it is a flaky test.

Example (the hook needs the asserts rewritten afresh, hence the cache prefix):
    SYNTHGEN_TEST_SPREAD=/tmp/s.jsonl PYTHONPYCACHEPREFIX=/tmp/pyc python -m pytest -m trained \\
        -p tests.spread -o enable_assertion_pass_hook=true
    python -m tests.spread /tmp/s.jsonl
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import defaultdict

# numbers in pytest's account of an assert, without numpy's wrappers (np.float64(0.93) -> 0.93)
_WRAPPER = re.compile(r"np\.[a-z_]+\d*\(")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def numbers(explanation: str) -> list[float]:
    """The numbers of the first line of pytest's explanation of an assert.

    >>> numbers("np.float64(0.931) > 0.85")
    [0.931, 0.85]
    """
    first = _WRAPPER.sub("(", explanation.splitlines()[0] if explanation else "")
    return [float(x) for x in _NUMBER.findall(first)]


def pytest_assertion_pass(item, lineno: int, orig: str, expl: str) -> None:
    path = os.environ.get("SYNTHGEN_TEST_SPREAD")
    values = numbers(expl)
    if not path or item.get_closest_marker("trained") is None or not values:
        return
    record = {
        "test": item.nodeid,
        "line": lineno,
        "assert": orig,
        "values": values,
        "seed": os.environ.get("SYNTHGEN_TEST_SEED", "0"),
        "kernel": os.environ.get("ATEN_CPU_CAPABILITY", "(default)"),
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def report(path: str) -> str:
    """Per assert: its text, the runs seen, and each of its numbers' min..max."""
    seen: dict[tuple[str, int], list[dict]] = defaultdict(list)
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            seen[record["test"], record["line"]].append(record)
    rows = []
    for (test, line), records in sorted(seen.items()):
        width = min(len(r["values"]) for r in records)
        spans = [
            f"{min(r['values'][i] for r in records):.4g}..{max(r['values'][i] for r in records):.4g}"
            for i in range(width)
        ]
        runs = len({(r["seed"], r["kernel"]) for r in records})
        rows.append(
            f"{test}:{line} ({runs} runs, {len(records)} checks)\n"
            f"    {records[0]['assert']}\n    {'  '.join(spans)}"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(report(sys.argv[1]))
