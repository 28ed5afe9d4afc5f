"""README's exit codes and docs/bad-input.md, read as tables and held to what the commands do: a
case per row (the row's exit code, and the words its quoted message promises), and a row without
a case fails, so a table cannot grow a promise nobody checks."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import synthgen
from synthgen import errors
from tests import test_promises as promises
from tests.conftest import SAMPLE_DATA
from tests.test_modelfile import edited, hostile_files
from tests.test_promises import ROOT, synthgen_env

PENGUINS = (SAMPLE_DATA / "penguins.csv").read_bytes()


def tables(path: Path) -> dict[str, list[dict[str, str]]]:
    """Every markdown table in `path` under the heading above it: rows as {header: cell}."""
    out: dict[str, list[dict[str, str]]] = {}
    heading = ""
    header: list[str] | None = None
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            heading, header = line.lstrip("#").strip(), None
        elif line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            if header is None:
                header = cells
            elif not set(line) <= set("|- "):
                out.setdefault(heading, []).append(dict(zip(header, cells)))
        else:
            header = None
    return out


def exits(cell: str) -> list[int | None]:
    """`3`, `3 / 0`, `143, 129`, `—` (none: the process is killed)."""
    return [int(x) if x.isdigit() else None for x in re.split(r"\s*[/,]\s*", cell.strip())]


def promised(cell: str) -> list[str]:
    """The messages a cell quotes ("X is empty"), as patterns: X and Y any path, … anything,
    any number any number."""
    out = []
    for quote in re.findall(r'"([^"`]+)"', cell):
        pattern = ""
        for piece in re.split(r"(\bX\b|\bY\b|…|\d+(?:,\d{3})*)", quote):
            if piece in ("X", "Y", "…"):
                pattern += ".*?"
            elif piece and piece[0].isdigit():
                pattern += r"[\d,]+"
            else:
                pattern += re.escape(piece)
        out.append(pattern)
    return out


def cli(args: list[str], cwd: Path, capsys) -> tuple[int, str]:
    """The command in this process: its exit code and its stderr."""
    return promises.cli(args, cwd), capsys.readouterr().err


def keeps_its_word(code: int, err: str, row: dict[str, str], expected: int | None) -> None:
    """The row's exit code; for a refusal, one line holding every message the row quotes."""
    assert code == expected, (row, err)
    if expected:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        said = " ".join(v for k, v in row.items() if k not in ("case", "exit"))
        for pattern in promised(said):
            assert re.search(pattern, lines[0]), (pattern, lines[0])


# ---- README's exit codes ----------------------------------------------------------------------


def test_readme_errors_py_and_bad_input_md_name_the_same_exit_codes():
    rows = tables(ROOT / "README.md")["Exit codes"]
    readme = {int(r["code"]) for r in rows}
    mentioned = {int(c) for r in rows for c in re.findall(r"\b(\d+)\b", " ".join(r.values()))}
    in_errors = {int(c) for c in re.findall(r"^\| (\d+) +\|", errors.__doc__ or "", flags=re.M)}
    bad_input = (ROOT / "docs" / "bad-input.md").read_text()
    sentence = re.search(r"^Exit codes: (.*?)\.", bad_input, flags=re.M | re.S).group(1)
    in_sentence = {int(c) for c in re.findall(r"\b(\d+)\b", sentence)}
    raised = {cls.exit_code for cls in _subclasses(errors.SynthgenError)}
    assert readme == in_errors and readme <= in_sentence <= mentioned and raised <= readme


def _subclasses(cls: type) -> set[type]:
    out = set(cls.__subclasses__())
    for sub in list(out):
        out |= _subclasses(sub)
    return out


def _exit_case(code: int, tmp: Path) -> tuple[list[str], str]:
    """A command that exits `code`, and the words its one line holds."""
    data = tmp / "data.csv"
    data.write_bytes(PENGUINS)
    model = tmp / "m.synthgen"
    synthgen.fit(synthgen.read_table(str(data)), seed=0).save(str(model))
    (tmp / "taken.csv").write_text("x\n")
    synthgen.load(str(model)).sample(300, seed=1).to_csv(tmp / "synth.csv", index=False)
    return {
        0: (["sample", str(model), "-n", "5", "-o", "out.csv"], ""),
        1: (
            ["report", str(data), str(tmp / "synth.csv"), "--fail-on", "privacy", "-q"],
            "--holdout",
        ),
        2: (["sample", str(model), "--engine", "spark"], "unknown engine"),
        3: (["fit", "missing.csv"], "no such file"),
        4: (["sample", str(data)], "not a synthgen model file"),
        5: (["sample", str(model), "-o", "taken.csv"], "pass --force"),
    }[code]


@pytest.mark.parametrize("row", tables(ROOT / "README.md")["Exit codes"], ids=lambda r: r["code"])
def test_each_row_of_readme_s_exit_codes(row, tmp_path, capsys):
    code = int(row["code"])
    if code == 6:  # an interpreter where torch cannot be imported
        script = (
            "import sys; sys.modules['torch'] = None\n"
            "from synthgen.cli import main\n"
            "main(['fit', 'data.csv', '-m', 'ctgan'])\n"
        )
        (tmp_path / "data.csv").write_bytes(PENGUINS)
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=synthgen_env(),
        )
        assert done.returncode == 6 and "pip install 'synthgen[ctgan]'" in done.stderr
        return
    if code in (130, 143):  # stopped commands: the Faults table's rows, run below
        faults = [exits(r["exit"]) for r in BAD_INPUT["Faults"]]
        assert any(code in codes for codes in faults)
        return
    args, words = _exit_case(code, tmp_path)
    got, err = cli(args, tmp_path, capsys)
    assert got == code, err
    assert words in err


# ---- docs/bad-input.md: input tables ----------------------------------------------------------

BAD_INPUT = tables(ROOT / "docs" / "bad-input.md")


def _csv(header: str, rows: list[str]) -> bytes:
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def _numbers(n: int = 40) -> list[str]:
    return [f"{i},{'ab'[i % 2]}" for i in range(n)]


# row -> [(file content, options, command)], one per exit code in the row's exit cell
Run = tuple[bytes, list[str], str]
INPUT_CASES: dict[str, Callable[[Path], list[Run]]] = {
    "empty file, or only blank lines": lambda t: [(b"\n \n\n", [], "schema")],
    "header only": lambda t: [(b"a,b\n", [], "schema")],
    "one row": lambda t: [(b"a,b\n1,x\n", [], "fit")],
    "one column": lambda t: [(_csv("a", [str(i) for i in range(40)]), [], "fit")],
    "duplicate column names": lambda t: [(_csv("a,b,a", ["1,2,3", "4,5,6"]), [], "schema")],
    "empty column name": lambda t: [(_csv("a,,c", ["1,2,3", "4,5,6"]), [], "schema")],
    "the first column unnamed, its values all given and all different (R's `write.csv` row "
    "names, pandas' `to_csv` index)": lambda t: [
        (_csv('"",a,b', [f'"{i + 1}",{r}' for i, r in enumerate(_numbers())]), [], "fit")
    ],
    "every name of the header row a number (`6.32e-03,18,2.31`: most likely a file without a "
    "header row, as mlxtend's boston_housing ships)": lambda t: [
        (_csv("6.32e-03,18,2.31", [f"{i / 7:.3f},{i % 5},{i * 0.5}" for i in range(40)]), [], "fit")
    ],
    "the first column unnamed, a value repeated or missing": lambda t: [
        (_csv(",a,b", [f"{i % 3},{r}" for i, r in enumerate(_numbers())]), [], "schema")
    ],
    "R's `write.table` files: fields split by one space, names quoted, and each row one field "
    "wider than the header (its row names)": lambda t: [
        (
            _csv('"a" "b"', [f'"{i + 1}" {r.replace(",", " ")}' for i, r in enumerate(_numbers())]),
            [],
            "fit",
        )
    ],
    "a row with more fields than the header": lambda t: [
        (_csv("a,b", ["1,2", "3,4,5"]), [], "schema")
    ],
    "unclosed quote": lambda t: [(_csv("a,b", ['1,"x', "2,y"]), [], "schema")],
    "a column that is all null": lambda t: [(_csv("a,b", [f"{i}," for i in range(40)]), [], "fit")],
    "a constant column": lambda t: [(_csv("a,b", [f"{i},k" for i in range(40)]), [], "fit")],
    "UTF-8 with a BOM": lambda t: [(b"\xef\xbb\xbf" + _csv("a,b", _numbers()), [], "fit")],
    "latin-1, cp1252": lambda t: [
        (b"name,city\n\xe9x,y\n" + _csv("", _numbers())[1:], [], "schema"),
        (b"name,city\n\xe9x,y\n" + _csv("", _numbers())[1:], ["--encoding", "latin-1"], "fit"),
    ],
    "UTF-16, gzip, zip/Excel, binary": lambda t: [("a,b\n1,2\n".encode("utf-16"), [], "schema")],
    "a synthgen model file where a table belongs (`synthgen report model.synthgen out.csv`)": (
        lambda t: [(_model_bytes(t), [], "schema")]
    ),
    "`;`, tab and `|` delimiters": lambda t: [
        (_csv("a;b", [r.replace(",", ";") for r in _numbers()]), [], "fit")
    ],
    "quoted newlines": lambda t: [
        (_csv("a,b", [f'{i},"x\ny{i % 3}"' for i in range(40)]), [], "fit")
    ],
    "a column mixing numbers and words (`1`, `2`, `unknown`)": lambda t: [
        (_csv("a,b", [f"{i},{i % 4 if i % 5 else 'unknown'}" for i in range(40)]), [], "fit")
    ],
    "integers beyond int64 (`1180591620717411303424`)": lambda t: [
        (_csv("a,b", [f"{i},{2**70 + i}" for i in range(40)]), [], "fit")
    ],
    "`inf`, `-inf`, `Infinity` in a numeric column": lambda t: [
        (
            _csv("a,b", [f"{i},{['inf', '-inf', 'Infinity', str(i)][i % 4]}" for i in range(40)]),
            [],
            "fit",
        )
    ],
    'thousands separators `"1,234"`, `"1,234.5"`': lambda t: [
        (_csv("a,b", [f'{i},"{1000 + i * 37:,}.5"' for i in range(40)]), [], "fit")
    ],
    "negatives in parentheses `(1,234.50)`, `($3.00)`": lambda t: [
        (
            _csv(
                "a,b",
                [f'{i},"({1000 + i * 37:,}.50)"' if i % 3 else f"{i},{i}.5" for i in range(40)],
            ),
            [],
            "fit",
        )
    ],
    "numbers but for a word or two (`unknown` among amounts)": lambda t: [
        (_csv("a,b", [f"{i},{'unknown' if i % 9 == 0 else i * 1.5}" for i in range(40)]), [], "fit")
    ],
    "codes of one width with leading zeros `030001`, `02134`": lambda t: [
        (_csv("a,z", [f"{i},{i * 2417 % 99999:05d}" for i in range(40)]), [], "fit")
    ],
    'currency and percent signs `"$1,234.50"`, `-$3`, `3,50 €`, `12.5%`': lambda t: [
        (_csv("a,b,c", [f'{i},"-${1000 + i * 37:,}.50",{i % 90}.5%' for i in range(40)]), [], "fit")
    ],
    "decimal commas `1,5`, `1.234,5` (e.g. with `;`)": lambda t: [
        (_csv("a;b", [f"{i};{i},5" for i in range(40)]), [], "fit")
    ],
    "dates before 1677 or after 2262": lambda t: [
        (_csv("a,d", [f"{i},{1500 + i * 20}-01-0{1 + i % 9}" for i in range(40)]), [], "fit")
    ],
    "times of day `11:38:36`, `14:22`, `9:05 PM`": lambda t: [
        (
            _csv("a,t", [f"{i},{9 + i % 14:02d}:{i % 60:02d}:{i % 7:02d}" for i in range(40)]),
            [],
            "fit",
        )
    ],
    "integer-coded dates `20240131`": lambda t: [
        (_csv("a,d", [f"{i},2024{1 + i % 12:02d}{1 + i % 28:02d}" for i in range(40)]), [], "fit")
    ],
    "mixed timezones (`+0100`, `-0500`, `Z`)": lambda t: [
        (
            _csv(
                "a,d",
                [
                    f"{i},2024-01-0{1 + i % 9}T10:00:00{['+0100', '-0500', 'Z'][i % 3]}"
                    for i in range(40)
                ],
            ),
            [],
            "fit",
        )
    ],
    "a value that doesn't fit the kind a `--schema` file gives": lambda t: [
        (_csv("a,b", [f"{i},{i}" for i in range(39)] + ["39,n/k"]), ["--schema", _schema(t)], "fit")
    ],
    "very long strings (100 kB a value)": lambda t: [
        (_csv("a,b", [f"{i},{'x' * 100_000 if i == 3 else 'short'}" for i in range(40)]), [], "fit")
    ],
}
# rows no test here can run: what covers them instead
NOT_HERE = {
    "a file larger than memory allows to load twice": (
        "tests/test_stream_fit.py::test_a_file_too_big_to_load_twice_fits_in_bounded_memory"
    ),
    "50,000 distinct values in a column": "tests/test_bad_input.py::test_fifty_thousand_distinct_values",
    "1,000 columns": "tests/test_bad_input.py::test_a_thousand_columns",
}


def _model_bytes(folder: Path) -> bytes:
    path = folder / "model.synthgen"
    synthgen.fit(synthgen.read_table(str(SAMPLE_DATA / "penguins.csv")), seed=0).save(str(path))
    data = path.read_bytes()
    path.unlink()
    return data


def _schema(folder: Path) -> str:
    path = folder.parent / f"{folder.name}-schema.json"
    path.write_text('{"columns": [{"name": "b", "kind": "numeric"}]}')
    return str(path)


@pytest.mark.parametrize("row", BAD_INPUT["Input tables"], ids=lambda r: r["case"][:40])
def test_each_input_table_row(row, tmp_path, capsys):
    case = row["case"]
    if case in NOT_HERE:  # a test elsewhere runs it (seconds of work, or gigabytes)
        path, name = NOT_HERE[case].split("::")
        assert f"def {name}(" in (ROOT / path).read_text(), NOT_HERE[case]
        return
    assert case in INPUT_CASES, f"docs/bad-input.md has a row no test runs: {case!r}"
    runs = INPUT_CASES[case](tmp_path)
    expected = exits(row["exit"])
    assert len(runs) == len(expected), case
    for (content, options, command), code in zip(runs, expected):
        data = tmp_path / "data.csv"
        data.write_bytes(content)
        args = [command, str(data), *options]
        if command == "fit":
            args += ["-o", str(tmp_path / "m.synthgen"), "-q", "--force"]
        got, err = cli(args, tmp_path, capsys)
        keeps_its_word(got, err, row, code)
        assert data.read_bytes() == content  # the input is never modified


# ---- docs/bad-input.md: model files -----------------------------------------------------------


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("valid")
    path = folder / "m.synthgen"
    from tests.conftest import mixed_frame
    from tests.test_hostile_states import crafted

    synthgen.fit(mixed_frame(200), seed=0).save(str(path))
    valid = path.read_bytes()
    files = {k: raw for k, (raw, _) in hostile_files(valid).items()}
    files["format-2"] = edited(valid, lambda m, a: m.update(format_version=2), checksum=True)
    files["model-foo"] = edited(valid, lambda m, a: m.update(model="foo"), checksum=True)
    files["traversal-x"] = files["path-traversal"].replace(
        b"../../escaped.txt", b"../../x" + b"\0" * 10
    )
    synthgen.fit(mixed_frame(200), model="gmm", seed=0, components=2).save(str(path), force=True)

    def doubled(fitted: dict) -> None:
        fitted["weights"] = fitted["weights"] * 2

    files["gmm-doubled"] = crafted(synthgen.modelfile.read_state(path), doubled)
    return files


# row -> the hostile files it stands for, the first one held to its quoted message
MODEL_CASES = {
    "truncated": ["truncated", "truncated-header"],
    "corrupted bytes": ["corrupted"],
    "edited (manifest or arrays)": ["edited", "edited-array"],
    "newer format version": ["format-2", "newer-format"],
    "not a zip (a CSV, an empty file, a pickle of protocol 0–1)": [
        "not-a-zip",
        "empty",
        "pickle-protocol-0",
    ],
    "a pickle (protocol 2+)": ["pickle"],
    "a zip bomb (huge declared sizes, or packed more than 1000:1 past 16 MB)": [
        "zip-bomb",
        "zip-bomb-manifest",
    ],
    "path-traversal or extra member names (`../../x`), repeated members": [
        "traversal-x",
        "path-traversal",
        "repeated-member",
    ],
    "arrays whose shape or dtype disagree with the manifest": [
        "shape-disagrees",
        "array-smaller",
        "array-larger-than-declared",
    ],
    "object (pickled) arrays": ["pickle-in-npy", "pickled-array"],
    "a model name this synthgen doesn't know": ["model-foo", "unknown-model"],
}


def _model_case(case: str) -> list[str]:
    if case.startswith("a state no fit could make"):
        return ["gmm-doubled", "inconsistent-state"]
    assert case in MODEL_CASES, f"docs/bad-input.md has a model-file row no test runs: {case!r}"
    return MODEL_CASES[case]


@pytest.mark.parametrize("row", BAD_INPUT["Model files"], ids=lambda r: r["case"][:40])
def test_each_model_file_row(row, model_files, tmp_path, capsys):
    for i, key in enumerate(_model_case(row["case"])):
        path = tmp_path / "m.synthgen"
        path.write_bytes(model_files[key])
        got, err = cli(["sample", str(path), "-n", "3", "-o", "out.csv"], tmp_path, capsys)
        if i == 0:
            keeps_its_word(got, err, row, 4)
        else:
            assert got == 4 and len(err.strip().splitlines()) == 1, (key, err)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["m.synthgen"]


# ---- docs/bad-input.md: faults ----------------------------------------------------------------


def _model(folder: Path) -> Path:
    path = folder / "m.synthgen"
    if not path.exists():
        synthgen.fit(synthgen.read_table(str(SAMPLE_DATA / "penguins.csv")), seed=0).save(str(path))
    return path


def _stopped(args: list[str], signum: int | None, folder: Path) -> int:
    """Run a command and stop it with `signum` (SIGKILL when None) once it is writing (an
    output's temp file has bytes) or, reading stdin (`-`), once it has taken in a megabyte.
    Returns its exit code; the folder must then hold what it held before (and, after SIGKILL,
    at most hidden temp files)."""
    model = _model(folder)
    data = folder / "data.csv"
    data.write_bytes(PENGUINS)
    args = [str(model) if a == "MODEL" else a for a in args]
    before = {p.name for p in folder.iterdir()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthgen", *args],
        cwd=folder,
        stdin=subprocess.PIPE if "-" in args[1:2] else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=synthgen_env(),
    )
    written = 0
    if proc.stdin is not None:

        def feed() -> None:
            nonlocal written
            rows = PENGUINS.split(b"\n", 1)[1]
            try:
                proc.stdin.write(PENGUINS)
                while True:
                    proc.stdin.write(rows)
                    written += len(rows)
            except (BrokenPipeError, ValueError, OSError):
                pass

        threading.Thread(target=feed, daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.stdin is not None and written > 1_000_000:
            break
        if any(p.stat().st_size > 0 for p in folder.rglob(".*.tmp") if p.is_file()):
            break
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    else:
        proc.kill()
        raise AssertionError("the command never got going")
    proc.send_signal(signal.SIGKILL if signum is None else signum)
    _, err = proc.communicate(timeout=120)
    left = {p.name for p in folder.iterdir()} - before
    if signum is None:
        assert all(n.startswith(".") and n.endswith(".tmp") for n in left), left
    else:
        assert left == set(), left
        assert "interrupted" in err.decode() and b"Traceback" not in err
    return proc.returncode


ENOSPC = OSError(errno.ENOSPC, "No space left on device")


def _fault(row: dict[str, str], folder: Path, capsys, monkeypatch) -> list[int | None]:
    """The exit codes a fault row's case gives, in the order of its exit cell."""
    case = row["case"]
    if case.startswith("Ctrl-C during"):
        commands = re.findall(r"`(\w+)`", case)
        assert commands == ["fit", "sample", "run", "schema"], commands
        args = {
            "fit": ["fit", "-", "-o", "x.synthgen"],
            "sample": ["sample", "MODEL", "-n", "20000000", "-o", "x.csv"],
            "run": ["run", "data.csv", "-d", "out", "-n", "20000000"],
            "schema": ["schema", "-", "-o", "x.json"],
        }
        codes = {_stopped(args[c], signal.SIGINT, folder) for c in commands}
        assert len(codes) == 1
        return list(codes)
    sample = ["sample", "MODEL", "-n", "20000000", "-o", "x.parquet"]
    if case == "SIGTERM, SIGHUP":
        return [_stopped(sample, signal.SIGTERM, folder), _stopped(sample, signal.SIGHUP, folder)]
    if case == "SIGKILL":
        return [None] if _stopped(sample, None, folder) == -signal.SIGKILL else [0]
    model = str(_model(folder))
    runs: list[list[str]] = []
    if case.startswith("disk full"):

        def full(fd: int) -> None:
            raise ENOSPC

        monkeypatch.setattr(os, "fsync", full)
        runs = [["sample", model, "-n", "5", "-o", "x.csv"]]
    elif case == "output exists":
        (folder / "x.csv").write_text("precious")
        runs = [["sample", model, "-n", "5", "-o", "x.csv"]]
    elif case == "output is the input":
        runs = [["sample", model, "-n", "5", "-o", model, "--force"]]
    elif case.startswith("output directory missing"):
        (folder / "a-file").write_text("x")
        (folder / "a-dir").mkdir()
        runs = [["sample", model, "-o", str(folder / d / "x.csv")] for d in ("missing", "a-file")]
        runs.append(["sample", model, "-o", "a-dir"])
    elif case.startswith("output is a device or pipe"):
        os.mkfifo(folder / "fifo")
        runs = [["sample", model, "-o", p, "--force"] for p in ("/dev/full", "fifo")]
    elif case.startswith("output named with an extension"):
        runs = [["sample", model, "-n", "5", "-o", p] for p in ("x.xlsx", "x.tsv")]
    elif case.startswith("`report --json X --html X`"):
        data = str(folder / "data.csv")
        (folder / "data.csv").write_bytes(PENGUINS)
        runs = [["report", data, data, "--json", "X", "--html", "X"]]
    elif case.startswith("`run` stopped"):
        (folder / "data.csv").write_bytes(PENGUINS)
        stopped = _stopped(
            ["run", "data.csv", "-d", "out", "-n", "20000000"], signal.SIGINT, folder
        )
        got, err = cli(["run", "missing.csv", "-d", "out2"], folder, capsys)
        assert not (folder / "out2").exists()
        return [stopped, got]
    elif case.startswith("stdout closed by its reader"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "synthgen", "sample", model, "-n", "100000", "-o", "-"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=synthgen_env(),
        )
        proc.stdout.close()
        proc.communicate(timeout=120)
        return [proc.returncode]
    else:
        raise AssertionError(f"docs/bad-input.md has a fault row no test runs: {case!r}")
    codes = set()
    for i, args in enumerate(runs):
        got, err = cli(args, folder, capsys)
        codes.add(got)
        if i == 0:
            keeps_its_word(got, err, row, got)  # one line, with the words the row quotes
        else:
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return sorted(codes)


@pytest.mark.parametrize("row", BAD_INPUT["Faults"], ids=lambda r: r["case"][:40])
def test_each_fault_row(row, tmp_path, capsys, monkeypatch):
    got = _fault(row, tmp_path, capsys, monkeypatch)
    assert got == exits(row["exit"]), (row["case"], got)


def test_a_row_with_no_runnable_case_would_fail():
    """The checker itself: a made-up row is caught."""
    with pytest.raises(AssertionError, match="no test runs"):
        _model_case("a model file printed on paper")
    assert exits("3 / 0") == [3, 0] and exits("143, 129") == [143, 129] and exits("—") == [None]
    assert re.search(promised('refused: "X is empty"')[0], "error: data.csv is empty")
    assert not re.search(promised('"X is empty"')[0], "error: data.csv has no rows")
