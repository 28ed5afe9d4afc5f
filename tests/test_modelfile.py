"""The model file (synthgen.modelfile): a valid file loads and round-trips; files from strangers
(damaged, tampered, hostile) are each refused with one line and exit code 4, nothing is written,
and loading never unpickles anything."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen
from synthgen import modelfile
from synthgen.errors import ModelFileError
from tests.conftest import mixed_frame
from tests.test_cli import run_cli


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "m.synthgen"
    synthgen.fit(mixed_frame(200), seed=0).save(str(path))
    return path.read_bytes()


def unpack(raw: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        manifest = json.loads(zf.read(modelfile.MANIFEST))
        with np.load(io.BytesIO(zf.read(modelfile.ARRAYS))) as npz:
            arrays = {k: npz[k] for k in npz.files}
    return manifest, arrays


def pack(manifest: dict, arrays: dict, *, checksum: bool = True, npz: bytes | None = None) -> bytes:
    """A model file from parts; with `checksum` the checksum is recomputed, as an attacker can."""
    if checksum:
        manifest = {**manifest, "checksum": modelfile._checksum(manifest, arrays)}
    if npz is None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        npz = buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(modelfile.MANIFEST, json.dumps(manifest))
        zf.writestr(modelfile.ARRAYS, npz)
    return out.getvalue()


def declare_size(raw: bytes, member: str, size: int) -> bytes:
    """Rewrite a member's uncompressed size in the zip's central directory and local header,
    as a zip bomb would declare it (the data stays small)."""
    data = bytearray(raw)
    name = member.encode()
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_at = start + (46 if signature == b"PK\x01\x02" else 30)
            if data[name_at : name_at + len(name)] == name:
                data[start + offset : start + offset + 4] = struct.pack("<I", size)
            start += 4
    return bytes(data)


def edited(valid: bytes, change, *, checksum: bool = False) -> bytes:
    manifest, arrays = unpack(valid)
    change(manifest, arrays)
    return pack(manifest, arrays, checksum=checksum)


def _npz_with(arrays: dict[str, np.ndarray], allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for key, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=allow_pickle)
            zf.writestr(f"{key}.npy", member.getvalue())
    return buffer.getvalue()


def hostile_files(valid: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, words the refusal must contain)."""
    manifest, arrays = unpack(valid)
    half = len(valid) // 2
    flipped = bytearray(valid)
    flipped[half : half + 8] = bytes(b ^ 0xFF for b in flipped[half : half + 8])
    traversal = io.BytesIO()
    with zipfile.ZipFile(traversal, "w") as zf:
        zf.writestr(modelfile.MANIFEST, json.dumps(manifest))
        zf.writestr(modelfile.ARRAYS, b"")
        zf.writestr("../../escaped.txt", "gotcha")
    duplicated = io.BytesIO()
    with zipfile.ZipFile(duplicated, "w") as zf, pytest.warns(UserWarning):
        zf.writestr(modelfile.MANIFEST, json.dumps(manifest))
        zf.writestr(modelfile.ARRAYS, b"")
        zf.writestr(modelfile.MANIFEST, json.dumps({**manifest, "seed": 1}))
    key = next(iter(arrays))
    shape = list(arrays[key].shape)

    def reshape(m, a):
        m["arrays"][key]["shape"] = [shape[0] + 1, *shape[1:]]

    def smaller(m, a):
        a[key] = a[key][:1]

    def inconsistent(m, a):
        corr = m["fitted"]["correlation"]["__array__"]
        a[corr] = -np.ones_like(a[corr])  # not a correlation matrix: sampling would fail

    object_arrays = {**arrays, key: np.array([{"x": 1}], dtype=object)}
    object_manifest = {
        **manifest,
        "arrays": {**manifest["arrays"], key: {"dtype": "|O", "shape": [1]}},
    }
    deep = "[" * 100_000 + "]" * 100_000
    return {
        "truncated": (valid[:half], "truncated"),
        "truncated-header": (valid[:30], "truncated"),
        "corrupted": (bytes(flipped), "corrupt"),
        "edited": (edited(valid, lambda m, a: m.update(training_rows=7)), "checksum"),
        "edited-array": (
            edited(valid, lambda m, a: a.update({key: a[key] + 1})),
            "checksum",
        ),
        "newer-format": (
            edited(valid, lambda m, a: m.update(format_version=99), checksum=True),
            "upgrade synthgen",
        ),
        "not-a-zip": (b"species,island\nAdelie,Biscoe\n", "not a zip"),
        "empty": (b"", "not a zip"),
        "pickle": (pickle.dumps({"model": "gaussian-copula"}), "pickle"),
        "pickle-protocol-0": (pickle.dumps([1, 2], protocol=0), "not a zip"),
        "pickled-array": (
            pack(object_manifest, object_arrays, npz=_npz_with(object_arrays, allow_pickle=True)),
            "dtype object",
        ),
        "pickle-in-npy": (
            pack(manifest, arrays, npz=_npz_with({**arrays, key: object_arrays[key]}, True)),
            "unreadable arrays",
        ),
        "zip-bomb": (declare_size(valid, modelfile.ARRAYS, 2**31), "zip bomb"),
        "zip-bomb-manifest": (declare_size(valid, modelfile.MANIFEST, 2**30), "zip bomb"),
        "path-traversal": (traversal.getvalue(), "unexpected members: ['../../escaped.txt']"),
        "repeated-member": (duplicated.getvalue(), "unexpected members"),
        "shape-disagrees": (
            edited(valid, reshape, checksum=True),
            f"manifest says {[shape[0] + 1, *shape[1:]]}",
        ),
        "array-smaller": (edited(valid, smaller), "manifest says"),
        "array-larger-than-declared": (
            pack(
                {**manifest, "arrays": {**manifest["arrays"], key: {"dtype": "<f8", "shape": [1]}}},
                {**arrays, key: np.zeros(20_000)},  # 160 kB where the manifest says 8 bytes
            ),
            "more than the manifest",
        ),
        "unknown-model": (
            edited(valid, lambda m, a: m.update(model="os.system"), checksum=True),
            "does not know",
        ),
        "deep-json": (_raw_manifest(deep.encode(), arrays), "corrupt"),
        "inconsistent-state": (edited(valid, inconsistent, checksum=True), "inconsistent"),
        # the encoder's state read by inspect before any model: it ended in a traceback there
        "inconsistent-encoder": (
            edited(valid, lambda m, a: m["encoder"].pop("columns"), checksum=True),
            "inconsistent",
        ),
    }


def _raw_manifest(text: bytes, arrays: dict) -> bytes:
    out = io.BytesIO()
    npz = io.BytesIO()
    np.savez(npz, **arrays)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(modelfile.MANIFEST, text)
        zf.writestr(modelfile.ARRAYS, npz.getvalue())
    return out.getvalue()


CASES = [
    "truncated",
    "truncated-header",
    "corrupted",
    "edited",
    "edited-array",
    "newer-format",
    "not-a-zip",
    "empty",
    "pickle",
    "pickle-protocol-0",
    "pickled-array",
    "pickle-in-npy",
    "zip-bomb",
    "zip-bomb-manifest",
    "path-traversal",
    "repeated-member",
    "shape-disagrees",
    "array-smaller",
    "array-larger-than-declared",
    "unknown-model",
    "deep-json",
    "inconsistent-state",
    "inconsistent-encoder",
]


@pytest.fixture(scope="module")
def hostile(valid) -> dict[str, tuple[bytes, str]]:
    files = hostile_files(valid)
    assert sorted(files) == sorted(CASES)
    return files


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["sample", "inspect"])
def test_refused_with_one_line_and_nothing_written(
    case, command, hostile, tmp_path, capsys, monkeypatch
):
    raw, words = hostile[case]
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    path = work / "model.synthgen"
    path.write_bytes(raw)
    monkeypatch.chdir(work)
    before = _tree(tmp_path)
    args = [command, str(path)]
    if command == "sample":
        args += ["-n", "5", "-o", str(work / "out.csv")]
    code, out, err = run_cli(args, capsys)
    assert code == 4, err
    assert words in err
    assert str(path) in err or "model file" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert _tree(tmp_path) == before  # no output, no temp file, nothing unpacked anywhere
    assert out == ""


def test_a_directory_is_not_a_model_file(tmp_path, capsys):
    code, _, err = run_cli(["sample", str(tmp_path), "-o", "-"], capsys)
    assert code == 4 and "is a directory" in err


class PickleCalled(BaseException):
    """Not an Exception, so no handler on the way can swallow it."""


def test_loading_never_unpickles(valid, hostile, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PickleCalled("pickle was called while loading a model file")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    path = tmp_path / "m.synthgen"
    path.write_bytes(valid)
    model = synthgen.load(str(path))
    assert len(model.sample(5, seed=0)) == 5
    for raw, _ in hostile.values():
        path.write_bytes(raw)
        with pytest.raises(ModelFileError):
            synthgen.load(str(path))
    # the guard itself works: numpy's pickle path would have hit it
    with pytest.raises(PickleCalled):
        np.load(
            io.BytesIO(_npz_with({"a": np.array([{}], dtype=object)}, True)), allow_pickle=True
        )["a"]


def test_valid_file_still_loads_and_round_trips(valid, tmp_path):
    path = tmp_path / "m.synthgen"
    path.write_bytes(valid)
    model = synthgen.load(str(path))
    again = tmp_path / "again.synthgen"
    model.save(str(again))
    assert synthgen.load(str(again)).sample(50, seed=3).equals(model.sample(50, seed=3))


def test_a_model_whose_state_fails_the_load_checks_is_not_written(tmp_path):
    """Saving reads the file back as loading will: a state the load checks refuse (here a
    probability a fit could not leave; in a survey, one a rounding above 1 that the checks did
    not then allow) raises and writes nothing, rather than a file no command can load."""
    model = synthgen.fit(mixed_frame(200), model="gmm", seed=0, components=2)
    model.part_probs_[0, 0] += 0.5
    path = tmp_path / "m.synthgen"
    with pytest.raises(ModelFileError, match="was not written"):
        model.save(str(path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["gaussian-copula", "gmm", "gmm-gaussian", "cart"])
def test_a_table_of_categories_only_saves_and_loads(name, tmp_path):
    """No number to model (Stat2Data's FloridaDP: a verdict, a race, two 0/1 flags): gmm's
    file held empty quantile tables its load could not shape, so `synthgen run` wrote no
    model (exit 4, "this is a bug in synthgen"). Each core model's file loads and samples the
    rows the fitted model does."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "id": np.arange(300),
            "verdict": rng.choice(["yes", "no"], 300),
            "race": rng.choice(["white", "black", "other"], 300),
            "flag": rng.random(300) < 0.4,
        }
    )
    model = synthgen.fit(table, model=name, seed=0)
    assert not model.encoder_.continuous_parts
    path = tmp_path / "m.synthgen"
    model.save(str(path))
    assert synthgen.load(str(path)).sample(200, seed=1).equals(model.sample(200, seed=1))
