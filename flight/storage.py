"""Files that roll over by size or age, so a service that runs for days cannot fill the
disk.

``telemetry.jsonl`` grows to ``max_bytes`` (or, with ``max_age_s``, until it holds that
much mission time), then becomes ``telemetry.jsonl.1`` (the
previous ``.1`` becomes ``.2``, and so on); the oldest beyond ``keep`` is deleted. At
most ``(keep + 1) x max_bytes`` stay on disk per stream (docs/operations.md). A rotation
happens only between two writes, so a record (a JSON line, a packet) is never split.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class Rotation:
    """Roll a file over beyond ``max_bytes``, or once it spans ``max_age_s`` of mission
    time (None: size only), keeping ``keep`` old ones."""

    max_bytes: int = 64 * MIB
    keep: int = 8
    max_age_s: float | None = None

    def __post_init__(self) -> None:
        if self.max_bytes < 1024:
            raise ValueError(f"rotation max_bytes must be >= 1024, got {self.max_bytes}")
        if self.keep < 1:
            raise ValueError(f"rotation keep must be >= 1, got {self.keep}")
        if self.max_age_s is not None and not self.max_age_s > 0.0:
            raise ValueError(f"rotation max_age_s must be > 0 s, got {self.max_age_s}")


class RotatingFile:
    """A text (``"w"``) or binary (``"wb"``) file with :meth:`write`, :meth:`flush` and
    :meth:`close`, rolled over by ``rotation`` (None: never); ``now_s`` is the mission
    clock a ``max_age_s`` rotation reads (flight never reads the wall clock).

    Raises:
        OSError: the file cannot be opened (as ``open`` would).
    """

    def __init__(self, path: Path, mode: str = "w", rotation: Rotation | None = None,
                 now_s: Callable[[], float] | None = None) -> None:
        if mode not in ("w", "wb"):
            raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self.rotation = rotation
        self.rotations = 0
        self._now_s = now_s
        self._age_limit_s = rotation.max_age_s if rotation is not None and now_s else None
        self._opened_s = now_s() if now_s is not None else 0.0
        self._f: IO[Any] = self._open()
        self.size = 0

    def _open(self) -> IO[Any]:
        if self.mode == "wb":
            return open(self.path, "wb")  # noqa: SIM115 closed in close()
        return open(self.path, "w", encoding="utf-8")  # noqa: SIM115 closed in close()

    def write(self, data: Any) -> int:
        """Write ``data`` (str or bytes by the mode), rolling over first if it would
        take the file beyond ``max_bytes``; returns what the file's ``write`` did."""
        n = len(data)  # (characters in text mode: ASCII JSON, as many as bytes)
        rot = self.rotation
        if rot is not None and self.size > 0 and (
                self.size + n > rot.max_bytes or (
                    self._age_limit_s is not None and self._now_s is not None
                    and self._now_s() - self._opened_s >= self._age_limit_s)):
            self.rotate()
        self.size += n
        return int(self._f.write(data))

    def rotate(self) -> None:
        """Close the file, shift ``path.N`` to ``path.N+1`` (dropping the oldest beyond
        ``keep``), move the file to ``path.1`` and start it again."""
        self._f.close()
        keep = self.rotation.keep if self.rotation is not None else 1
        oldest = self.path.with_name(f"{self.path.name}.{keep}")
        if oldest.exists():
            oldest.unlink()
        for i in range(keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{i}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._f = self._open()
        self.size = 0
        self._opened_s = self._now_s() if self._now_s is not None else 0.0
        self.rotations += 1

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    @property
    def closed(self) -> bool:
        return bool(self._f.closed)
