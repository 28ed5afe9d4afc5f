"""Streaming samples: the rows of a seed do not depend on chunks, threads or partitions, memory
stays bounded, datasets appear whole or not at all."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

import synthgen
from synthgen.engines import local
from synthgen.errors import OutputError, UsageError
from tests.conftest import keyed_frame
from tests.test_cli import run_cli


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.synthgen"
    synthgen.fit(keyed_frame(), seed=0).save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def model(model_path):
    return synthgen.load(model_path)


def test_csv_bytes_do_not_depend_on_chunk_size(model_path, tmp_path, capsys):
    files = []
    for chunk in (7_000, 10_000, 25_000):
        out = tmp_path / f"{chunk}.csv"
        args = ["sample", model_path, "-n", "60000", "-o", str(out), "--seed", "5", "-q"]
        code, _, err = run_cli([*args, "--chunk-rows", str(chunk)], capsys)
        assert code == 0, err
        files.append(out.read_bytes())
    assert files[0] == files[1] == files[2]
    keys = pd.read_csv(tmp_path / "7000.csv", usecols=["code"])["code"]
    assert keys.is_unique and keys.str.len().max() > len("AA-99")  # widened, once for all rows


def test_widened_keys_do_not_depend_on_chunk_size(model):
    """Too many rows for the keys' shape: every key gets the same extra digits, decided by
    the whole sample's size (here crossing 100,000), not by where a chunk ends."""
    a = [c["code"] for c in model.iter_sample(120_000, seed=1, chunk_rows=10_000)]
    b = [c["code"] for c in model.iter_sample(120_000, seed=1, chunk_rows=30_000)]
    a, b = pd.concat(a, ignore_index=True), pd.concat(b, ignore_index=True)
    assert a.equals(b) and a.is_unique and a.str.len().nunique() == 1


def test_parquet_bytes_do_not_depend_on_chunk_size_or_threads(model, tmp_path):
    paths = []
    for chunk, threads in ((10_000, 1), (30_000, 3)):
        path = tmp_path / f"{chunk}.parquet"
        local.sample_to_file(model, path, 45_000, seed=2, chunk_rows=chunk, threads=threads)
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    back = pd.read_parquet(paths[0])
    expect = model.sample(45_000, seed=2)
    assert len(back) == 45_000
    for name in expect.columns:  # same values; text of few values comes back categorical
        assert back[name].astype(object).equals(expect[name].astype(object)), name


def test_slices_of_the_row_stream_join_up(model):
    whole = model.sample_rows(0, 33_333, seed=4, total=50_000)
    parts = [
        model.sample_rows(lo, hi, seed=4, total=50_000)
        for lo, hi in [(0, 12_345), (12_345, 20_000), (20_000, 33_333)]
    ]
    pd.testing.assert_frame_equal(whole, pd.concat(parts, ignore_index=True))
    chunks = pd.concat(list(model.iter_sample(33_333, seed=4, chunk_rows=7_000)), ignore_index=True)
    pd.testing.assert_frame_equal(chunks, model.sample(33_333, seed=4))


def test_dtypes_follow_the_model_not_the_chunk(model):
    """A column that can be null has the nullable dtype in every chunk, nulls or not."""
    frames = [model.sample_rows(i, i + 3, seed=1) for i in range(0, 300, 3)]
    assert len({str(f.dtypes.to_dict()) for f in frames}) == 1
    assert str(frames[0]["count"].dtype) == "Int64"
    assert any(f["count"].isna().any() for f in frames)
    assert any(f["count"].notna().all() for f in frames)


def test_categorical_decode_holds_the_same_values(model):
    plain = model.sample_rows(0, 5_000, seed=3)
    fast = model.sample_rows(0, 5_000, seed=3, categorical=True)
    assert isinstance(fast["group"].dtype, pd.CategoricalDtype)
    assert plain["group"].dtype == object  # the contract's dtype
    for name in plain.columns:
        assert fast[name].astype(object).equals(plain[name].astype(object)), name


def test_discrete_lookup_matches_an_exact_search(model):
    """Codes found on the normal scale equal the search on the probability scale."""
    z = np.random.default_rng(0).standard_normal(200_000) * 1.5
    for j, cum in enumerate(model.cumulative_):
        exact = np.clip(np.searchsorted(cum, ndtr(z), side="right") - 1, 0, len(cum) - 2)
        assert np.array_equal(model._inverse_discrete(j, z), model.orders_[j][exact]), j


def test_generator_holds_one_chunk_at_a_time():
    table = pd.DataFrame({"x": np.arange(500.0), "c": list("abcde") * 100})
    model = synthgen.fit(table, seed=0)
    one_chunk = model.sample(100_000, seed=1).memory_usage(deep=True).sum()
    tracemalloc.start()
    try:
        rows = 0
        for chunk in model.iter_sample(2_000_000, seed=1, chunk_rows=100_000):
            rows += len(chunk)
            del chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 2_000_000
    assert peak < 4 * one_chunk  # the whole sample is 20 chunks


def test_dataset_equals_the_single_file(model, tmp_path):
    files = local.sample_to_dataset(model, tmp_path / "ds", 25_000, seed=3, partitions=3)
    assert [f.name for f in files] == [f"part-0000{i}.parquet" for i in range(3)]
    assert [len(pd.read_parquet(f)) for f in files] == [8_333, 8_333, 8_334]
    local.sample_to_file(model, tmp_path / "one.parquet", 25_000, seed=3)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "ds"), pd.read_parquet(tmp_path / "one.parquet")
    )


def test_dataset_appears_whole_or_not_at_all(model, tmp_path, monkeypatch):
    calls = []
    real = local.write_rows

    def failing(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(local, "write_rows", failing)
    with pytest.raises(RuntimeError):
        local.sample_to_dataset(model, tmp_path / "ds", 30_000, seed=1, partitions=3)
    assert list(tmp_path.iterdir()) == []  # no dataset, no temp directory


def test_force_replaces_a_dataset_but_nothing_else(model, tmp_path):
    out = tmp_path / "ds"
    local.sample_to_dataset(model, out, 100, seed=1, partitions=2)
    with pytest.raises(OutputError, match="force=True"):
        local.sample_to_dataset(model, out, 100, seed=1, partitions=2)
    local.sample_to_dataset(model, out, 100, seed=2, partitions=1, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not dataset parts"):
        local.sample_to_dataset(model, out, 100, seed=1, partitions=1, force=True)
    assert (out / "notes.txt").read_text() == "mine"


def test_cli_dataset_and_stdout(model_path, tmp_path, capsys):
    code, _, err = run_cli(
        ["sample", model_path, "-n", "3000", "-o", f"{tmp_path}/ds/", "--seed", "9"], capsys
    )
    assert code == 0 and "(1 Parquet file," in err
    code, text, _ = run_cli(["sample", model_path, "-n", "3000", "-o", "-", "--seed", "9"], capsys)
    out = tmp_path / "s.csv"
    run_cli(["sample", model_path, "-n", "3000", "-o", str(out), "--seed", "9", "-q"], capsys)
    assert code == 0 and text.encode() == out.read_bytes()
    code, _, err = run_cli(["sample", model_path, "-o", "-", "--partitions", "2"], capsys)
    assert code == 2 and "directory" in err


def test_bad_engine_options_are_usage_errors(model_path, capsys):
    for args in (
        ["--engine", "spark"],
        ["--scheduler", "tcp://x:1"],
        ["--partitions", "0"],
        ["--threads", "0"],
        ["--threads", "2", "--engine", "dask"],
    ):
        code, _, err = run_cli(["sample", model_path, "-o", "out/", *args], capsys)
        assert code == 2, (args, err)


def test_dask_engine_without_dask_says_how_to_install(model_path, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    code, _, err = run_cli(
        ["sample", model_path, "-n", "10", "-o", str(tmp_path / "ds"), "--engine", "dask"], capsys
    )
    assert code == 6 and "pip install 'synthgen[dask]'" in err
    assert not (tmp_path / "ds").exists()


def test_negative_or_inverted_rows_are_refused(model):
    with pytest.raises(UsageError):
        model.sample_rows(10, 5, seed=1)
    with pytest.raises(UsageError):
        list(model.iter_sample(-1, seed=1))


def test_row_groups_have_a_fixed_size(model, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(local, "ROW_GROUP_BYTES", 1)  # the smallest groups: 50,000 rows
    path = tmp_path / "s.parquet"
    local.sample_to_file(model, path, 130_000, seed=1, chunk_rows=30_000)
    meta = pq.ParquetFile(path).metadata
    size = local.row_group_rows(local.output_schema(model), 130_000)
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes == [size] * (130_000 // size) + ([130_000 % size] if 130_000 % size else [])


def test_a_file_has_at_least_four_row_groups_when_its_rows_allow(model, tmp_path):
    """So the writer writes one group while the threads make the next."""
    import pyarrow.parquet as pq

    path = tmp_path / "s.parquet"
    local.sample_to_file(model, path, 400_000, seed=1, chunk_rows=50_000)
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [100_000] * 4


def test_sampling_threads_keep_blas_to_one_thread_each_and_give_it_back(model, monkeypatch):
    """On one thread or several, and in `model.sample` too: a matrix product's last bits
    depend on BLAS's threads (OpenBLAS 0.3.31), so with BLAS on two threads for one thread of
    ours and on one for several, --threads 3 wrote other numbers than --threads 1."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    if not before or max(before) < 2:
        pytest.skip("BLAS runs on one thread here already")
    seen: list[list[int]] = []
    sample_rows = model.sample_rows

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return sample_rows(*args, **kwargs)

    monkeypatch.setattr(model, "sample_rows", spy)
    for threads in (1, 2):
        list(local.iter_chunks(model, 0, 30_000, seed=1, total=30_000, chunk_rows=10_000,
                               threads=threads))  # fmt: skip
    assert len(seen) == 6 and all(max(threads) == 1 for threads in seen)
    assert blas_threads() == before
    monkeypatch.undo()
    encode = type(model)._sample_encoded
    monkeypatch.setattr(
        type(model), "_sample_encoded", lambda *a: seen.append(blas_threads()) or encode(*a)
    )
    model.sample(100, seed=1)
    assert max(seen[-1]) == 1 and blas_threads() == before
