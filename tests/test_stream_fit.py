"""Fitting on tables bigger than memory: a uniform reservoir sample in one pass, plus the exact
counts of every row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

import synthgen
from synthgen import stream
from synthgen.io import read_table
from tests.conftest import mixed_frame
from tests.test_cli import run_cli


def chunked(frame: pd.DataFrame, size: int):
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def test_reservoir_is_uniform():
    """Over 400 seeds, every row is kept k/n of the time (chi-square), and so is every pair
    of rows, neighbours or not (a scheme keeping runs of rows would fail that)."""
    table = pd.DataFrame({"row": np.arange(12)})
    hits = np.zeros(12)
    pairs = {(0, 1): 0, (4, 5): 0, (0, 11): 0}
    for seed in range(400):
        sample, _ = stream.reservoir_sample(chunked(table, 5), 4, seed=seed)
        rows = sample["row"].to_numpy()
        assert len(rows) == 4 and (np.diff(rows) > 0).all()  # distinct, in table order
        hits[rows] += 1
        for pair in pairs:
            pairs[pair] += set(pair) <= set(rows)
    expected = 400 * 4 / 12
    chi2 = ((hits - expected) ** 2 / expected).sum()
    assert chi2 < scipy_stats.chi2.ppf(0.999, df=11), hits
    both = 400 * (4 * 3) / (12 * 11)  # 36.4
    for pair, count in pairs.items():
        assert abs(count - both) < 4 * both**0.5, (pair, count)


def test_reservoir_one_pass_and_independent_of_chunk_size():
    table = mixed_frame(3_000)
    seen = []

    def once(size):
        for chunk in chunked(table, size):
            seen.append(len(chunk))
            yield chunk

    a, stats = stream.reservoir_sample(once(250), 100, seed=3)
    assert sum(seen) == 3_000  # every row read once
    b, _ = stream.reservoir_sample(once(999), 100, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert stats.rows == 3_000
    assert stats.columns["income"].nulls == int(table["income"].isna().sum())
    counts = table["group"].value_counts()
    assert dict(stats.columns["group"].counts.astype(int)) == dict(counts)


def test_all_rows_fit_gives_the_plain_model(tmp_path, capsys):
    """With --max-rows above the table's size, streaming changes nothing."""
    path = tmp_path / "t.csv"
    mixed_frame(500).to_csv(path, index=False)
    out = tmp_path / "m.synthgen"
    code, _, err = run_cli(["fit", str(path), "-o", str(out), "--seed", "4", "-q"], capsys)
    assert code == 0, err
    plain = synthgen.fit(read_table(path), seed=4)
    pd.testing.assert_frame_equal(
        synthgen.load(str(out)).sample(300, seed=1), plain.sample(300, seed=1)
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """6,000 rows of which the sample keeps 600; a category and nulls sit only in rows the
    sample is unlikely to keep, and the largest age is in one row."""
    table = mixed_frame(6_000, seed=2)
    table.loc[5_990:, "group"] = "late"  # 10 rows: kept as a category, if counted on all rows
    table["member"] = table["member"].astype(object)
    table.loc[5_000:5_010, "member"] = None
    table.loc[5_995, "age"] = 99
    path = tmp_path_factory.mktemp("big") / "big.csv"
    table.to_csv(path, index=False)
    return table, path


def test_fit_max_rows_records_and_reports(big, tmp_path, capsys):
    table, path = big
    out = tmp_path / "m.synthgen"
    code, _, err = run_cli(
        ["fit", str(path), "-o", str(out), "--max-rows", "600", "--seed", "1"], capsys
    )
    assert code == 0, err
    assert "6,000 rows" in err and "sample of 600" in err
    code, text, _ = run_cli(["inspect", str(out), "--json"], capsys)
    info = json.loads(text)
    assert (info["training_rows"], info["source_rows"]) == (600, 6_000)
    code, text, _ = run_cli(["inspect", str(out)], capsys)
    assert "600 rows" in text and "6,000" in text
    # the Python API's streamed fit is the same fit
    model = synthgen.fit_file(path, max_rows=600, seed=1)
    assert (model.training_rows_, model.source_rows_) == (600, 6_000)
    pd.testing.assert_frame_equal(
        model.sample(500, seed=2), synthgen.load(str(out)).sample(500, seed=2)
    )


def test_exact_counts_from_all_rows(big, tmp_path):
    from synthgen.fitting import read_rows

    table, path = big
    rows = read_rows(path, max_rows=600, seed=1)
    sample, schema, counts, counted = rows.table, rows.schema, rows.stream, rows.counted
    assert len(sample) == 600 and (sample["group"] == "late").sum() < 10
    model = synthgen.models.create("gaussian-copula").fit(sample, schema, seed=1, stream=counts)
    group = dict(
        zip(model.encoder_.states[2]["categories"], model.encoder_.states[2]["probabilities"])
    )
    shared = table["group"].value_counts().drop("unique-rare")  # 2 rows: rare, never written
    assert group["late"] == pytest.approx(10 / shared.sum())  # kept: at least 5 rows in all
    assert group["senior"] == pytest.approx(shared["senior"] / shared.sum())
    assert schema["member"].null_rate == pytest.approx(11 / 6_000, abs=1e-6)
    assert schema["age"].max == 99 and "age" in counted
    assert model.whole_table_marginals_
    # the sampled model's marginal of age is the whole table's, knot for knot
    plain = synthgen.fit(read_table(path), seed=1)
    assert np.array_equal(model.quantiles_[0], plain.quantiles_[0])  # age
    assert np.array_equal(model.quantiles_[2], plain.quantiles_[2])  # joined
    out = model.sample(20_000, seed=2)
    assert out["member"].isna().any()  # nulls the sample may have missed still appear


def test_word_in_a_numeric_column_beyond_the_sample(tmp_path, monkeypatch, capsys):
    rows = [str(i * 7 % 1000) for i in range(3_000)]
    rows[2_999] = "n/a-ish"
    path = tmp_path / "t.csv"
    path.write_text("x,y\n" + "".join(f"{v},{i % 3}\n" for i, v in enumerate(rows)))
    code, _, err = run_cli(["fit", str(path), "--max-rows", "50", "--seed", "0"], capsys)
    assert code == 3 and "n/a-ish" in err and len(err.strip().splitlines()) == 1
    # the same when the column has too many distinct values to count them all
    monkeypatch.setattr(stream, "MAX_DISTINCT", 100)
    code, _, err = run_cli(["fit", str(path), "--max-rows", "50", "--seed", "0"], capsys)
    assert code == 3 and "n/a-ish" in err


def test_many_distinct_values_keep_bounds_and_integers(monkeypatch):
    monkeypatch.setattr(stream, "MAX_DISTINCT", 100)
    table = pd.DataFrame({"x": [str(i) for i in range(5_000)], "y": ["a", "b"] * 2_500})
    table.loc[4_321, "x"] = "12.5"
    sample, counts = stream.reservoir_sample(chunked(table, 1_000), 200, seed=0)
    assert counts.columns["x"].counts is None and counts.columns["y"].counts is not None
    schema = synthgen.detect(sample)
    assert stream.use_stream_stats(schema, counts) == ["y"]
    assert (schema["x"].min, schema["x"].max) == (0, 4_999)
    assert schema["x"].integer is False


def test_schema_override_facts_are_kept(big):
    from synthgen.schema import Column, Schema

    table, path = big
    sample, counts = stream.reservoir_sample(chunked(read_table(path), 1_000), 300, seed=0)
    overrides = Schema([Column(name="age", kind="numeric", max=150)])
    schema = synthgen.detect(sample, overrides)
    stream.use_stream_stats(schema, counts, overrides)
    assert schema["age"].max == 150 and schema["age"].min == table["age"].min()


def _peak_rss_of_fit(path, out, max_rows: int) -> float:
    """Peak resident memory (MiB) of `synthgen fit` on `path` in a fresh process."""
    import subprocess
    import sys

    code = (
        "import resource, sys\n"
        "from synthgen.cli import main\n"
        "try:\n"
        f"    main(['fit', {str(path)!r}, '-o', {str(out)!r}, '--max-rows', '{max_rows}',"
        " '-q', '--force', '--seed', '0'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_file_too_big_to_load_twice_fits_in_bounded_memory(tmp_path):
    """A 100 MB CSV (pandas would hold it several times over: text columns become Python
    strings) is fitted with at most its size in extra memory over a tiny file's fit."""
    block = mixed_frame(20_000, seed=3)
    block["note"] = [f"free text number {i} " * 3 for i in range(len(block))]
    path = tmp_path / "big.csv"
    block.to_csv(path, index=False)
    text = path.read_bytes().split(b"\n", 1)[1]
    with open(path, "ab") as fh:
        while fh.tell() < 100 * 2**20:
            fh.write(text)
    small = tmp_path / "small.csv"
    block.head(2_000).to_csv(small, index=False)
    size_mib = path.stat().st_size / 2**20
    base = _peak_rss_of_fit(small, tmp_path / "s.synthgen", 20_000)
    peak = _peak_rss_of_fit(path, tmp_path / "b.synthgen", 20_000)
    print(f"peak {peak:.0f} MiB, tiny file {base:.0f} MiB, file {size_mib:.0f} MiB")
    assert peak - base < 0.5 * size_mib, (peak, base, size_mib)
