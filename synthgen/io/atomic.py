"""Atomic outputs: a temp file (or directory) next to the destination, fsynced, then renamed
over it, so an interrupted or failed run never leaves a partial file and never clobbers an
existing one; and the checks that fail fast before any work.

>>> with atomic_path("model.synthgen", force=True) as tmp:  # doctest: +SKIP
...     tmp.write_bytes(payload)
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from synthgen.errors import OutputError, SynthgenError, option
from synthgen.io.common import _is_stdout


def check_writable(
    dest: str | os.PathLike[str],
    force: bool = False,
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Fail fast (OutputError) if `dest` can't be written: it exists and `force` is false, it is a
    directory, it is one of the `inputs` (never overwritten, even with `force`), or its directory
    is missing or not writable. "-" (stdout) always passes.

    >>> check_writable("out.csv", force=True, inputs=["data.csv"])  # doctest: +SKIP
    """
    if _is_stdout(dest):
        return
    path = Path(dest)
    if path.is_dir():
        raise OutputError(f"{dest} is a directory; give a file path to write to")
    if path.exists() and not path.is_file():
        # renaming a finished temp file onto it would replace the device or pipe itself
        raise OutputError(
            f"{dest} is not a regular file (a device or a pipe); write to a file, or to - for "
            "standard output"
        )
    for source in inputs:
        with contextlib.suppress(OSError):
            if not _is_stdout(source) and path.exists() and path.samefile(source):
                raise OutputError(f"{dest} is the input {source}; write the output elsewhere")
    if (path.exists() or path.is_symlink()) and not force:
        raise OutputError(f"{dest} exists; pass {option('--force', 'force=True')} to overwrite")
    parent = path.parent
    if not parent.exists():
        raise OutputError(f"directory {parent} does not exist; create it first")
    if not parent.is_dir():
        raise OutputError(f"{parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to directory {parent}: permission denied")


def _os_error(exc: OSError, dest: str | os.PathLike[str]) -> OutputError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return OutputError(f"disk full while writing {dest}; free some space and retry")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return OutputError(f"cannot write {dest}: permission denied")
    if exc.errno == errno.EROFS:
        return OutputError(f"cannot write {dest}: read-only file system")
    return OutputError(f"cannot write {dest}: {exc.strerror or exc}")


def _file_mode() -> int:
    """Mode a plain `open(..., 'w')` would give a new file (0o666 minus the umask)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _make_temp(dest: Path) -> Path:
    """An empty temp file `.<name>.<random>.tmp` next to dest, with normal file permissions."""
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.chmod(name, _file_mode())
    except BaseException:  # a signal between making the file and handing it over
        _discard(Path(name))
        raise
    return Path(name)


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(tmp: Path, dest: Path, force: bool) -> None:
    """fsync tmp and move it onto dest; without force, never replace a file that appeared
    meanwhile (hard link fails if dest exists; falls back to check-then-rename)."""
    _fsync_path(tmp)
    if force:
        os.replace(tmp, dest)
    else:
        try:
            os.link(tmp, dest)
        except FileExistsError:
            raise OutputError(
                f"{dest} exists; pass {option('--force', 'force=True')} to overwrite"
            ) from None
        except OSError:  # no hard links here (some network/FUSE file systems)
            if dest.exists() or dest.is_symlink():
                raise OutputError(
                    f"{dest} exists; pass {option('--force', 'force=True')} to overwrite"
                ) from None
            os.replace(tmp, dest)
        else:
            _discard(tmp)
    with contextlib.suppress(OSError):
        _fsync_path(dest.parent, directory=True)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str], force: bool = False) -> Iterator[Path]:
    """Yield a temp path next to `dest`; when the block succeeds, fsync it and rename it onto
    `dest`. On any exception (Ctrl-C included) the temp file is removed and `dest` is left as it
    was; OSErrors become OutputError ("disk full while writing X", ...).

    >>> with atomic_path("model.sgm", force=True) as tmp:  # doctest: +SKIP
    ...     tmp.write_bytes(payload)
    """
    if _is_stdout(dest):
        raise ValueError("atomic_path needs a file path, not '-' (stdout)")
    path = Path(dest)
    check_writable(path, force)
    try:
        tmp = _make_temp(path)
    except OSError as exc:
        raise _os_error(exc, dest) from None
    try:
        yield tmp
        _commit(tmp, path, force)
    except OSError as exc:
        _discard(tmp)
        raise _os_error(exc, dest) from exc
    except BaseException:
        _discard(tmp)
        raise


@contextlib.contextmanager
def atomic_paths(
    dests: Iterable[str | os.PathLike[str]], force: bool = False
) -> Iterator[list[Path]]:
    """`atomic_path` for the outputs of one command, published as one: a temp path next to
    each destination; when the block succeeds every temp file is moved onto its destination,
    and if one move fails the others are taken back and the files they replaced restored.
    Either every destination gets its new file or none changes; on any exception (Ctrl-C
    included) nothing is published. A message that names a temp path names its destination.

    >>> with atomic_paths(["m.synthgen", "rows.csv"], force=True) as (model, rows):  # doctest: +SKIP
    ...     model.write_bytes(data)
    """
    paths = [Path(d) for d in dests]
    temps: list[Path] = []
    try:
        for path in paths:
            check_writable(path, force)
            try:
                temps.append(_make_temp(path))
            except OSError as exc:
                raise _os_error(exc, path) from None
        yield temps
        _publish(temps, paths, force)
    except OSError as exc:
        named = [d for t, d in zip(temps, paths) if str(t) == getattr(exc, "filename", None)]
        raise _os_error(exc, (named or paths)[0]) from exc
    except SynthgenError as exc:
        text = str(exc)
        for tmp, path in zip(temps, paths):
            text = text.replace(str(tmp), str(path))
        exc.args = (text,)
        raise
    finally:
        for tmp in temps:
            _discard(tmp)


def _publish(temps: list[Path], paths: list[Path], force: bool) -> None:
    """Move each temp file onto its destination (`_commit`), the file it replaces moved aside
    until all are done; on any failure, undo the moves made."""
    done: list[tuple[Path, Path | None]] = []  # (destination, the file it held before)
    try:
        for tmp, path in zip(temps, paths):
            old = None
            if force and (path.exists() or path.is_symlink()):
                old = _make_temp(path)
                os.replace(path, old)
            try:
                _commit(tmp, path, force)
            except BaseException:
                if old is not None:
                    os.replace(old, path)
                raise
            done.append((path, old))
    except BaseException:
        for path, old in reversed(done):
            with contextlib.suppress(OSError):
                if old is None:
                    os.unlink(path)
                else:
                    os.replace(old, path)
        raise
    for _, old in done:
        if old is not None:
            _discard(old)


#: Files a dataset directory may hold for `--force` to replace it (anything else: refused).
_DATASET_FILE = re.compile(r"^(part-\d+\.parquet|\..*\.tmp)$")


def check_dataset_writable(dest: str | os.PathLike[str], force: bool = False) -> None:
    """Fail fast (OutputError) if a dataset directory can't be written at `dest`: it exists
    and `force` is false, it is a file, it holds files that are not dataset parts (never
    deleted, even with `force`), or its parent is missing or not writable."""
    path = Path(dest)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{dest} is a file; give a directory path for a partitioned dataset")
    if path.is_dir():
        if not force:
            raise OutputError(f"{dest} exists; pass {option('--force', 'force=True')} to overwrite")
        others = [p.name for p in path.iterdir() if not _DATASET_FILE.match(p.name)]
        if others:
            raise OutputError(
                f"{dest} holds files that are not dataset parts ({others[0]}, ...); "
                "refusing to replace it, give another directory"
            )
    parent = path.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to directory {parent}: permission denied")


@contextlib.contextmanager
def atomic_directory(dest: str | os.PathLike[str], force: bool = False) -> Iterator[Path]:
    """Yield a new empty temp directory next to `dest`; when the block succeeds, rename it to
    `dest` (with `force`, an existing dataset there is moved aside first and then deleted). On
    any exception the temp directory is removed and `dest` is left as it was.

    >>> with atomic_directory("out", force=True) as tmp:  # doctest: +SKIP
    ...     (tmp / "part-00000.parquet").write_bytes(data)
    """
    import shutil

    path = Path(dest).absolute()
    check_dataset_writable(path, force)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        os.chmod(tmp, _file_mode() | 0o111)
    except OSError as exc:
        raise _os_error(exc, dest) from None
    try:
        yield tmp
        _fsync_path(tmp, directory=True)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old)  # old is an empty directory: rename replaces it
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
        with contextlib.suppress(OSError):
            _fsync_path(path.parent, directory=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise OutputError(
                f"{dest} exists; pass {option('--force', 'force=True')} to overwrite"
            ) from None
        raise _os_error(exc, dest) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
