"""GREENAI_HOME is its owner's only: directories 0700, files 0600.

New files get these modes from the start (:data:`UMASK` for ``greenai up`` and every child it
starts, and explicit modes for what greenai writes itself); :func:`lock_down` fixes a home
made before, or by a process with a looser umask.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "UMASK",
    "lock_down",
    "private_dir",
    "touch_private",
    "write_private",
]

UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` (and missing parents) as a directory of mode 0700; returns it."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, in a file that is 0600 from its creation."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, FILE_MODE)  # O_CREAT keeps the mode of a leftover file
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def touch_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (else just fix its mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE))
    os.chmod(path, FILE_MODE)


def lock_down(home: Path) -> None:
    """Every directory under ``home`` (and ``home``) 0700, every regular file 0600.

    Symbolic links are not followed and sockets are left alone.
    """
    os.chmod(home, DIR_MODE)
    for root, dirs, files in os.walk(home):
        for name in dirs:
            _chmod(Path(root, name), DIR_MODE, stat.S_ISDIR)
        for name in files:
            _chmod(Path(root, name), FILE_MODE, stat.S_ISREG)


def _chmod(path: Path, mode: int, is_kind: Callable[[int], bool]) -> None:
    try:
        st = path.lstat()
    except FileNotFoundError:  # a server removed it meanwhile
        return
    if is_kind(st.st_mode) and stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)
