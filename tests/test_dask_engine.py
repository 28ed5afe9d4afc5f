"""The Dask engine on a real distributed.LocalCluster: the same files as the local engine."""

from __future__ import annotations

import pandas as pd
import pytest

import synthgen
from synthgen.engines import local
from tests.conftest import keyed_frame

distributed = pytest.importorskip("distributed")

from synthgen.engines import dask as engine  # noqa: E402  (needs distributed)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.synthgen"
    synthgen.fit(keyed_frame(), seed=0).save(str(path))
    return path


def same_files(a, b) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names
    )


def test_dask_dataset_equals_local_dataset(model_path, tmp_path, monkeypatch):
    model = synthgen.load(str(model_path))
    local.sample_to_dataset(model, tmp_path / "local", 45_000, seed=7, partitions=4)
    loads = []
    real_loads = synthgen.modelfile.loads
    monkeypatch.setattr(synthgen.modelfile, "loads", lambda *a: loads.append(1) or real_loads(*a))
    monkeypatch.setattr(engine, "_MODELS", {})
    done = []
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        files = engine.sample_to_dataset(
            model_path,
            tmp_path / "dask",
            45_000,
            seed=7,
            partitions=4,
            dask_client=client,
            progress=done.append,
        )
    assert [f.name for f in files] == [local.part_name(i) for i in range(4)]
    assert same_files(tmp_path / "local", tmp_path / "dask")
    assert sorted(done) == [11_250] * 4
    # one check here, then each of the two workers (threads of this process) parsed the
    # model at most once, not once per partition
    assert 2 <= len(loads) <= 3
    whole = model.sample(45_000, seed=7)
    back = pd.read_parquet(tmp_path / "dask")
    assert back["age"].equals(whole["age"]) and back["code"].equals(whole["code"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask", "local"]  # no temp left


@pytest.mark.slow  # starting two worker processes takes seconds
def test_dask_worker_processes(model_path, tmp_path, capsys):
    """A cluster of two worker processes (as the CLI starts by default), through the CLI."""
    from tests.test_cli import run_cli

    model = synthgen.load(str(model_path))
    local.sample_to_dataset(model, tmp_path / "local", 20_000, seed=3, partitions=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        code, _, err = run_cli(
            [
                "sample",
                str(model_path),
                "-n",
                "20000",
                "-o",
                str(tmp_path / "dask"),
                "--engine",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
                "--partitions",
                "2",
                "--seed",
                "3",
            ],
            capsys,
        )
    assert code == 0, err
    assert "2 Parquet files" in err
    assert same_files(tmp_path / "local", tmp_path / "dask")


def test_unreachable_scheduler_is_a_usage_error(model_path, tmp_path, monkeypatch):
    from synthgen.errors import UsageError

    monkeypatch.setattr(
        distributed, "Client", lambda *a, **k: (_ for _ in ()).throw(OSError("refused"))
    )
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        engine.sample_to_dataset(
            model_path, tmp_path / "out", 10, seed=1, scheduler="tcp://127.0.0.1:1"
        )
    assert not (tmp_path / "out").exists()
