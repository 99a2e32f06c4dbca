"""Files and folders the commands write (--out, --csv, --plot, /export, the data dir).

Every command writes through here, so a path that cannot be written (a missing folder, a folder given
as a file, no permission, a read-only or full disk) is one line that names the option, the path and
the fix (NNTError: exit code 2), never a traceback.
"""
from __future__ import annotations

import errno
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from nn_tutor.engine.errors import NNTError


def describe_os_error(exc: OSError, path: str | Path, what: str, example: str = "out.txt") -> str:
    """One line for an OS error on `path`, set by `what` (an option such as --csv): problem and fix."""
    path = Path(path)
    where = f"{what} {path}" if what else str(path)
    code = exc.errno
    if code == errno.EISDIR or (code in (errno.EEXIST, errno.EACCES) and path.is_dir()):
        return f"{where} is a folder; give a file name inside it, e.g. {path / example}"
    if code == errno.ENOENT:
        return f"{where}: the folder {path.parent} does not exist; create it first or choose another path"
    if code == errno.ENOTDIR:
        return f"{where}: part of the path is a file, not a folder; choose another path"
    if code in (errno.EACCES, errno.EPERM):
        return f"{where}: permission denied; choose a folder you can write to"
    if code == errno.EROFS:
        return f"{where}: the file system is read-only; choose a writable folder"
    if code == errno.ENOSPC:
        return f"{where}: the disk is full; free some space or choose another disk"
    return f"{where}: {exc.strerror or exc.__class__.__name__}; choose another path"


@contextmanager
def open_output(path: str | Path, what: str, *, binary: bool = False, newline: str | None = None,
                example: str = "out.txt") -> Iterator[IO]:
    """Open `path` for writing (UTF-8 text, or bytes); any OS error becomes a one-line NNTError."""
    try:
        with open(path, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8",
                                                                      "newline": newline})) as fh:
            yield fh
    except OSError as exc:
        raise NNTError(describe_os_error(exc, path, what, example)) from None


def write_output(path: str | Path, text: str, what: str, example: str = "out.txt") -> None:
    """Write `text` to `path` (UTF-8); any OS error becomes a one-line NNTError."""
    with open_output(path, what, example=example) as fh:
        fh.write(text)


def ensure_folder(path: str | Path, what: str) -> Path:
    """Create the folder `path` (and its parents) if needed; an OS error becomes a one-line NNTError."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if folder.exists() and not folder.is_dir():
            raise NNTError(f"{what} {folder} is a file, not a folder; choose a folder") from None
        reason = exc.strerror or exc.__class__.__name__
        raise NNTError(f"{what} {folder}: cannot create this folder ({reason}); choose a folder you "
                       f"can write to") from None
    return folder
