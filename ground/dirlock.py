"""One writer per output directory: an exclusive advisory lock on ``DIR/.lock``.

A run directory (``thermine run --out``) and a campaign directory are each written by one
process at a time. :func:`lock_directory` takes an exclusive ``flock`` on ``DIR/.lock``
and writes who holds it (pid, host, start time, command line); a second process that asks
for the same directory is refused with :class:`DirectoryBusy` naming the holder. The
kernel drops the lock when the holder exits, however it exits (kill -9 included), so a
stale ``.lock`` file never blocks anyone: only a live holder does.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
import sys
from pathlib import Path

from common.errors import ConfigError

LOCK_NAME = ".lock"


class DirectoryBusy(ConfigError):
    """Another live process holds the directory's lock (an operator error: exit 2)."""


class DirLock:
    """A held lock on a directory; :meth:`release` (or process exit) lets it go."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Unlock and close; idempotent. The ``.lock`` file stays (it is harmless)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> DirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_directory(directory: Path, what: str = "run") -> DirLock:
    """Create ``directory`` (and parents) if needed and lock it for this process.

    ``what`` names the kind of directory in the message ("run", "campaign").

    Raises:
        ConfigError: ``directory`` exists and is not a directory.
        DirectoryBusy: another live process holds the lock (the message names it).
    """
    if directory.exists() and not directory.is_dir():
        raise ConfigError(str(directory), f"is a file, not a {what} directory; choose "
                          "another --out")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise DirectoryBusy(str(directory), f"{what} directory in use by {holder}; wait for "
                            "it to finish or choose another --out") from None
    os.ftruncate(fd, 0)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cmd = " ".join(Path(sys.argv[0]).name if i == 0 else a for i, a in enumerate(sys.argv))
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp} "
                 f"({cmd})\n".encode())
    return DirLock(directory, fd)


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 512, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or "another process"
