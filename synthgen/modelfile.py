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
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from synthgen.errors import ModelFileError

FORMAT = "synthgen-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
# Refuse members whose declared size is absurd for a model (a zip bomb), before reading them.
MAX_MEMBER_BYTES = 4 * 1024**3
MAX_MANIFEST_BYTES = 256 * 1024**2


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
    from synthgen import __version__

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
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, indent=1, default=_json_default))
        npz = io.BytesIO()
        np.savez(npz, **arrays)
        zf.writestr(ARRAYS, npz.getvalue())
    return buffer.getvalue()


def save(model: Any, path: str | Path, *, force: bool = False) -> None:
    """Write `model` to `path` atomically (a temp file renamed at the end)."""
    from synthgen.io import atomic_path

    data = dumps(model.to_state())
    with atomic_path(path, force=force) as tmp:
        Path(tmp).write_bytes(data)


def read_state(path: str | Path) -> dict[str, Any]:
    """The validated state inside a model file; ModelFileError for anything wrong with it."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {name}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{name} is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {name}: {exc.strerror}") from None
    return loads(raw, name)


def loads(raw: bytes, name: str = "model file") -> dict[str, Any]:
    if raw[:2] == b"\x80\x04" or raw[:1] == b"\x80":
        raise ModelFileError(
            f"{name} is a pickle, not a synthgen model file; synthgen never loads pickles"
        )
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise ModelFileError(f"{name} is not a synthgen model file (not a zip archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            if set(infos) != {MANIFEST, ARRAYS}:
                raise ModelFileError(
                    f"{name} is not a synthgen model file (unexpected members: "
                    f"{sorted(set(infos) - {MANIFEST, ARRAYS}) or 'missing ones'})"
                )
            if infos[MANIFEST].file_size > MAX_MANIFEST_BYTES or any(
                i.file_size > MAX_MEMBER_BYTES for i in infos.values()
            ):
                raise ModelFileError(f"{name} declares members too large for a model (zip bomb?)")
            manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
            npz_bytes = zf.read(ARRAYS)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ModelFileError(f"{name} is corrupt or truncated ({exc})") from None
    except UnicodeDecodeError:
        raise ModelFileError(f"{name} has a manifest that is not UTF-8 JSON") from None
    return _validate(manifest, npz_bytes, name)


def _validate(manifest: Any, npz_bytes: bytes, name: str) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{name} is not a synthgen model file (wrong format marker)")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(f"{name} has no valid format version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name} uses model-file format {version}, newer than this synthgen reads "
            f"({FORMAT_VERSION}); upgrade synthgen (pip install -U synthgen)"
        )
    try:
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{name} has unreadable arrays ({exc})") from None
    declared = manifest.get("arrays")
    if not isinstance(declared, dict) or set(declared) != set(arrays):
        raise ModelFileError(f"{name}: arrays disagree with the manifest")
    for key, meta in declared.items():
        arr = arrays[key]
        if list(arr.shape) != meta.get("shape") or arr.dtype.str != meta.get("dtype"):
            raise ModelFileError(
                f"{name}: array {key} has shape {list(arr.shape)} {arr.dtype.str}, "
                f"manifest says {meta.get('shape')} {meta.get('dtype')}"
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
    from synthgen.models import model_class

    state = read_state(path)
    name = state.get("model", "")
    if state.get("requires_pickle") and not trust_pickle:
        raise _pickle_refused(path, name)
    cls = model_class(name)
    if cls.requires_pickle and not trust_pickle:
        raise _pickle_refused(path, name)
    try:
        return cls.from_state(state)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFileError(
            f"{path} holds an inconsistent {state.get('model')} model ({exc})"
        ) from None


def _pickle_refused(path: str | Path, name: str) -> ModelFileError:
    return ModelFileError(
        f"{path} holds an SDV model ({name}) saved by SDV as a pickle; loading it can run code; "
        "pass --trust-pickle (load(..., trust_pickle=True)) only for files you made yourself"
    )
