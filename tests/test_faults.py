"""Faults while a command runs: Ctrl-C and kill signals, a full disk, paths that can't be written.
Whatever happens, nothing partial appears at the destination, an existing file is never clobbered
without --force, temp files are cleaned up (except after SIGKILL, which no process can catch), and
the input is never modified."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import synthgen
from synthgen.io import stream_writer
from tests.conftest import SAMPLE_DATA
from tests.test_cli import run_cli

PENGUINS = SAMPLE_DATA / "penguins.csv"
ROOT = Path(__file__).resolve().parent.parent
ENOSPC = OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "p.synthgen"
    synthgen.fit(synthgen.read_table(str(PENGUINS)), seed=0).save(str(path))
    return path


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def one_clean_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def synthgen_process(args: list[str], **kwargs) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "synthgen", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def wait_for_writing(proc: subprocess.Popen, directory: Path, prefix: str) -> Path:
    """The temp file the process is writing, once it holds some bytes."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for path in directory.glob(f".{prefix}.*.tmp"):
            if path.exists() and path.stat().st_size > 0:
                return path
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the process never started writing")


# ---- signals, in real processes -------------------------------------------------------------


@pytest.mark.parametrize(
    "signum, fmt, existing",
    [(signal.SIGINT, "csv", False), (signal.SIGTERM, "parquet", True)],
    ids=["ctrl-c-csv", "sigterm-parquet-over-existing"],
)
def test_signal_while_sampling_leaves_no_partial_output(
    signum, fmt, existing, model_file, tmp_path
):
    dest = tmp_path / f"out.{fmt}"
    if existing:
        dest.write_text("precious")
    args = ["sample", str(model_file), "-n", "20000000", "-o", str(dest), "--chunk-rows", "20000"]
    proc = synthgen_process(args + (["--force"] if existing else []))
    wait_for_writing(proc, tmp_path, dest.name)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum
    line = one_clean_line(err.decode())
    assert "interrupted" in line and signal.Signals(signum).name in line
    assert temp_files(tmp_path) == []
    if existing:
        assert dest.read_text() == "precious"  # --force replaces only with a finished file
    else:
        assert not dest.exists()


def test_sigkill_while_sampling_leaves_only_a_hidden_temp_file(model_file, tmp_path):
    """SIGKILL can't be caught: the temp file stays (hidden, named .out.csv.*.tmp), but the
    destination never holds a partial file."""
    dest = tmp_path / "out.csv"
    args = ["sample", str(model_file), "-n", "20000000", "-o", str(dest), "--chunk-rows", "20000"]
    proc = synthgen_process(args)
    temp = wait_for_writing(proc, tmp_path, dest.name)
    proc.kill()
    proc.communicate(timeout=60)
    assert not dest.exists()
    assert temp_files(tmp_path) == [temp.name] and temp.name.startswith(".out.csv.")


def test_ctrl_c_while_fit_reads_its_input(tmp_path):
    """`fit -` reading stdin: once it has taken in more than a pipe holds, Ctrl-C stops it."""
    model = tmp_path / "m.synthgen"
    proc = synthgen_process(["fit", "-", "-o", str(model)], stdin=subprocess.PIPE)
    rows = PENGUINS.read_bytes().split(b"\n", 1)[1]
    written = 0

    def feed() -> None:
        nonlocal written
        try:
            proc.stdin.write(PENGUINS.read_bytes())
            while True:
                proc.stdin.write(rows)
                proc.stdin.flush()
                written += len(rows)
        except (BrokenPipeError, ValueError, OSError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    deadline = time.monotonic() + 120
    while written < 1_000_000 and time.monotonic() < deadline:  # far past a pipe's 64 kB
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert "interrupted" in one_clean_line(err.decode())
    assert list(tmp_path.iterdir()) == []


# ---- signals and faults at exact moments, in process -------------------------------------------


def _signal_self(signum: int = signal.SIGINT) -> None:
    os.kill(os.getpid(), signum)


def test_ctrl_c_while_fitting(tmp_path, capsys, monkeypatch):
    from synthgen.models.copula import GaussianCopula

    monkeypatch.setattr(GaussianCopula, "_fit_encoded", lambda *a: _signal_self())
    code, _, err = run_cli(["fit", str(PENGUINS), "-o", str(tmp_path / "m.synthgen")], capsys)
    assert code == 130 and "interrupted" in one_clean_line(err)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_saving_the_model(tmp_path, capsys, monkeypatch):
    dest = tmp_path / "m.synthgen"
    dest.write_text("precious")

    def half_then_killed(self: Path, data: bytes) -> int:
        with open(self, "wb") as fh:
            fh.write(data[: len(data) // 2])
        _signal_self(signal.SIGTERM)
        return 0

    monkeypatch.setattr(Path, "write_bytes", half_then_killed)
    code, _, err = run_cli(["fit", str(PENGUINS), "-o", str(dest), "--force", "-q"], capsys)
    assert code == 143 and "SIGTERM" in one_clean_line(err)
    assert dest.read_text() == "precious" and temp_files(tmp_path) == []


@pytest.mark.parametrize("writer", ["pandas", "pyarrow"])
def test_disk_full_while_sampling_csv(writer, model_file, tmp_path, capsys, monkeypatch):
    dest = tmp_path / "out.csv"

    def fill_disk(self: pd.DataFrame, fh, *args, **kwargs) -> None:
        fh.write("species,island\nAdelie,Torgersen\n")
        raise ENOSPC

    def fsync(fd: int) -> None:
        raise ENOSPC

    if writer == "pandas":  # the CSV text of frames the fast writer leaves to pandas
        monkeypatch.setattr(stream_writer, "_csv_bytes", lambda df, header: None)
        monkeypatch.setattr(pd.DataFrame, "to_csv", fill_disk)
    else:  # the fast writer's bytes all went out; the disk is found full on the flush
        monkeypatch.setattr(os, "fsync", fsync)
    code, _, err = run_cli(["sample", str(model_file), "-n", "100", "-o", str(dest)], capsys)
    assert code == 5
    assert "disk full while writing" in one_clean_line(err) and "free some space" in err
    assert list(tmp_path.iterdir()) == []


def test_disk_full_while_sampling_parquet(model_file, tmp_path, capsys, monkeypatch):
    import pyarrow.parquet as pq

    def fill_disk(self, table, *args, **kwargs) -> None:
        raise ENOSPC

    monkeypatch.setattr(pq.ParquetWriter, "write_table", fill_disk)
    dest = tmp_path / "out.parquet"
    code, _, err = run_cli(["sample", str(model_file), "-n", "100", "-o", str(dest)], capsys)
    assert code == 5 and "disk full while writing" in one_clean_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_disk_full_while_saving_the_model(where, tmp_path, capsys, monkeypatch):
    """A full disk may show only when the data is flushed (fsync), after every write worked."""
    if where == "write":
        monkeypatch.setattr(Path, "write_bytes", lambda self, data: (_ for _ in ()).throw(ENOSPC))
    else:

        def fsync(fd: int) -> None:
            raise ENOSPC

        monkeypatch.setattr(os, "fsync", fsync)
    dest = tmp_path / "m.synthgen"
    code, _, err = run_cli(["fit", str(PENGUINS), "-o", str(dest), "-q"], capsys)
    assert code == 5 and "disk full while writing" in one_clean_line(err)
    assert list(tmp_path.iterdir()) == []


# ---- paths that can't be written ------------------------------------------------------------


@pytest.mark.parametrize(
    "dest, words",
    [
        ("missing-dir/out.csv", "does not exist; create it first"),
        ("a-file/out.csv", "is not a directory"),
        ("a-dir", "is a directory; give a file path"),
        ("/dev/full", "not a regular file"),
    ],
)
def test_unwritable_destinations(dest, words, model_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir").mkdir()
    before = sorted(tmp_path.rglob("*"))
    for args in (["sample", str(model_file), "-n", "5"], ["fit", str(PENGUINS)]):
        code, _, err = run_cli([*args, "-o", dest, "--force"], capsys)
        assert code == 5 and words in one_clean_line(err), err
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only directory")
def test_read_only_directory(model_file, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run_cli(
            ["sample", str(model_file), "-n", "5", "-o", str(locked / "o.csv")], capsys
        )
    finally:
        locked.chmod(0o700)
    assert code == 5 and "permission denied" in one_clean_line(err)


def test_output_never_overwrites_the_input(model_file, tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_bytes(PENGUINS.read_bytes())
    model = tmp_path / "m.synthgen"
    model.write_bytes(model_file.read_bytes())
    for args in (
        ["fit", str(data), "-o", str(data)],
        ["schema", str(data), "-o", str(data)],
        ["sample", str(model), "-o", str(model)],
        ["run", str(data), "--output-dir", str(tmp_path)],  # writes model.synthgen, synthetic.csv
    ):
        if args[0] == "run":
            (tmp_path / "synthetic.csv").unlink(missing_ok=True)
            os.link(data, tmp_path / "synthetic.csv")  # the input under an output's name
        code, _, err = run_cli([*args, "--force"], capsys)
        assert code == 5 and "is the input" in one_clean_line(err), (args, err)
    assert data.read_bytes() == PENGUINS.read_bytes()
    assert model.read_bytes() == model_file.read_bytes()


def test_existing_output_needs_force_and_a_late_comer_is_not_clobbered(
    model_file, tmp_path, capsys, monkeypatch
):
    dest = tmp_path / "out.csv"
    dest.write_text("precious")
    code, _, err = run_cli(["sample", str(model_file), "-o", str(dest)], capsys)
    assert code == 5 and "--force" in one_clean_line(err) and dest.read_text() == "precious"

    # another process creates the file while we sample: the finished sample does not replace it
    dest.unlink()
    from synthgen.io import AtomicStreamWriter

    original = AtomicStreamWriter.write

    def write(self, chunk):
        original(self, chunk)
        if not dest.exists():
            dest.write_text("someone else's")

    monkeypatch.setattr(AtomicStreamWriter, "write", write)
    code, _, err = run_cli(["sample", str(model_file), "-n", "50", "-o", str(dest)], capsys)
    assert code == 5 and "exists" in one_clean_line(err)
    assert dest.read_text() == "someone else's" and temp_files(tmp_path) == []


def test_input_is_never_modified(model_file, tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_bytes(PENGUINS.read_bytes())
    os.utime(data, ns=(1_000_000_000, 1_000_000_000))
    model = tmp_path / "m.synthgen"
    for args in (
        ["schema", str(data)],
        ["fit", str(data), "-o", str(model), "-q"],
        ["sample", str(model), "-n", "10", "-o", "-"],
        ["inspect", str(model)],
    ):
        code, _, err = run_cli(args, capsys)
        assert code == 0, err
    stat = data.stat()
    assert data.read_bytes() == PENGUINS.read_bytes() and stat.st_mtime_ns == 1_000_000_000


def test_an_error_raised_by_a_stop_inside_a_lock_is_reported_as_the_stop(
    monkeypatch, capsys, tmp_path
):
    """A signal's `Stopped` raised while a thread pool releases its lock surfaces as the lock's
    RuntimeError ("cannot release un-acquired lock"): still an interruption, never a traceback."""
    import signal

    import synthgen.cli as cli

    def read_rows(*args, **kwargs):
        with pytest.raises(cli.Stopped):
            cli._stop(signal.SIGTERM, None)
        raise RuntimeError("cannot release un-acquired lock")

    monkeypatch.setattr("synthgen.fitting.read_rows", read_rows)
    out = tmp_path / "out.synthgen"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fit", "sample_data/penguins.csv", "-o", str(out)])
    assert exit_.value.code == 128 + signal.SIGTERM
    assert "interrupted (SIGTERM)" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_stop_inside_a_native_callback_ends_the_command_without_a_traceback():
    """A signal that lands in Python code a native library called back (opendp's MST scores
    its queries so) raised `Stopped` there, which Python prints as "Exception ignored" and
    drops; the native code then ran on and aborted (`free(): invalid pointer`). The command
    now ends at once, with the interruption's line and code (mst on an 82-column table under
    `timeout`)."""
    script = """
import os, signal, sys, types
import synthgen.cli as cli

module = types.ModuleType("opendp._convert")
exec(
    "def _invoke_py_callback(work):\\n    return work()\\n", module.__dict__
)

def work():
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(10**7):  # the signal is handled here, inside the callback
        pass
    return "ran on"

with cli._stop_signals():
    print(module._invoke_py_callback(work))
print("and on")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert "interrupted (SIGTERM)" in done.stderr and "Traceback" not in done.stderr
    assert "ran on" not in done.stdout and "and on" not in done.stdout
