"""The byte pipe under the link: a pyserial port (UART, pty or ``socket://``) with typed errors.

``SerialTransport`` opens any pyserial URL with :func:`serial.serial_for_url`:

- ``/dev/ttyACM0``, ``/dev/pts/3``: a POSIX serial port. It is opened with
  ``exclusive=True``, which makes pyserial take an advisory ``flock(LOCK_EX | LOCK_NB)``
  on the descriptor, so a second thermine (or any flock-aware tool) on the same port
  fails at once with "in use by another process" instead of interleaving frames.
- ``socket://127.0.0.1:5555`` (the board emulator over TCP) and ``loop://`` (tests):
  the URL handlers have no notion of exclusive access, so the flag is not passed.

Reads never block longer than the port's short ``timeout``; writes never longer than
``write_timeout``. Every pyserial/OS failure becomes a :class:`LinkError` naming the port.
With ``capture_dir`` the exact bytes on the wire are appended to ``serial_tx.bin`` and
``serial_rx.bin`` (no framing, no timestamps: a hexdump shows what the UART carried).
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import IO, Any

import serial

from hal.errors import HalError

TX_CAPTURE = "serial_tx.bin"
RX_CAPTURE = "serial_rx.bin"

_IN_USE = {errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK}
_MISSING = {errno.ENOENT, errno.ENODEV, errno.ENXIO}
_VANISHED = {errno.EIO, errno.ENODEV, errno.ENXIO, errno.EBADF}


class LinkError(HalError):
    """The serial port itself failed: missing, in use, vanished, or a write timed out.

    ``port`` is the URL or device path the transport was opened on.
    """

    def __init__(self, port: str, message: str) -> None:
        super().__init__(f"port {port}: {message}")
        self.port = port


def is_device_path(url: str) -> bool:
    """True for a device node (``/dev/...``) that pyserial opens as a POSIX port, where
    ``exclusive=True`` takes a flock; False for ``socket://``, ``loop://`` and other URLs."""
    return "://" not in url and url.startswith("/dev/")


def _open_error(url: str, exc: BaseException) -> LinkError:
    """A pyserial/OS exception at open -> a LinkError that says what to do."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code in _IN_USE or "exclusively lock" in text:
        return LinkError(url, "is in use by another process (close the other terminal or "
                         "thermine instance holding it)")
    if code in _MISSING:
        return LinkError(url, "does not exist (is the board plugged in, or the emulator "
                         "started?)")
    if code == errno.EACCES:
        return LinkError(url, "permission denied (is your user in the 'dialout' group?)")
    if code == errno.ECONNREFUSED or "refused" in text.lower():
        return LinkError(url, "connection refused (is the emulator listening there?)")
    return LinkError(url, f"cannot open: {text or type(exc).__name__}")


class SerialTransport:
    """Raw bytes to and from one pyserial port.

    Args:
        url: device path (``/dev/ttyACM0``) or pyserial URL (``socket://host:port``).
        baudrate: line rate [bit/s] (ignored by ``socket://``).
        timeout_s: longest a :meth:`read` waits for the first byte [s].
        write_timeout_s: longest a :meth:`write` may block [s].
        capture_dir: if given, append tx/rx bytes to ``serial_tx.bin``/``serial_rx.bin``.

    Raises:
        LinkError: the port is missing, in use, refused, not permitted, or the capture
            files cannot be opened.
    """

    def __init__(self, url: str, baudrate: int = 115200, timeout_s: float = 0.01,
                 write_timeout_s: float = 0.5, capture_dir: Path | None = None) -> None:
        self.url = url
        self._tx_cap: IO[bytes] | None = None
        self._rx_cap: IO[bytes] | None = None
        kwargs: dict[str, Any] = {"baudrate": baudrate, "timeout": timeout_s,
                                  "write_timeout": write_timeout_s}
        if is_device_path(url):
            kwargs["exclusive"] = True
        try:
            self._port = serial.serial_for_url(url, **kwargs)
            self._port.reset_input_buffer()  # drop a board's boot chatter
        except Exception as exc:  # noqa: BLE001 - pyserial raises OSError/ValueError/...
            raise _open_error(url, exc) from exc
        if capture_dir is not None:
            try:
                capture_dir.mkdir(parents=True, exist_ok=True)
                self._tx_cap = open(capture_dir / TX_CAPTURE, "ab")  # noqa: SIM115
                self._rx_cap = open(capture_dir / RX_CAPTURE, "ab")  # noqa: SIM115
            except OSError as exc:
                self.close()
                raise LinkError(url, f"cannot open capture files in {capture_dir}: "
                                f"{exc.strerror or exc}") from exc

    def write(self, data: bytes) -> None:
        """Write all of ``data``.

        Raises:
            LinkError: write timeout (the other side is not draining the line), or the
                port vanished / was closed.
        """
        try:
            self._port.write(data)
        except serial.SerialTimeoutException as exc:
            raise LinkError(self.url, "write timed out (is the other side reading?)") from exc
        except Exception as exc:  # noqa: BLE001
            raise self._io_error("write", exc) from exc
        self._capture(self._tx_cap, data)

    def read(self, max_bytes: int = 256) -> bytes:
        """Bytes that arrive within the port's read timeout, at most ``max_bytes``; b"" if
        none did. Returns as soon as the first byte and whatever followed it are in.

        Raises:
            LinkError: the port vanished (device unplugged, emulator gone) or was closed.
        """
        try:
            data = self._port.read(1)
            if data:
                while len(data) < max_bytes:
                    waiting = self._port.in_waiting
                    if not waiting:
                        break
                    data += self._port.read(min(waiting, max_bytes - len(data)))
        except Exception as exc:  # noqa: BLE001
            raise self._io_error("read", exc) from exc
        self._capture(self._rx_cap, data)
        return data

    def close(self) -> None:
        """Close the port and the capture files; safe to call twice, never raises."""
        port = getattr(self, "_port", None)
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001, S110 - closing a dead port is not an error
                pass
        for f in (self._tx_cap, self._rx_cap):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self._tx_cap = self._rx_cap = None

    def _capture(self, f: IO[bytes] | None, data: bytes) -> None:
        if f is None or not data:
            return
        try:
            f.write(data)
            f.flush()
        except OSError as exc:
            raise LinkError(self.url, f"cannot write the capture: {exc.strerror or exc}") from exc

    def _io_error(self, what: str, exc: BaseException) -> LinkError:
        if isinstance(exc, serial.PortNotOpenError):
            return LinkError(self.url, f"{what} on a closed port")
        code = getattr(exc, "errno", None)
        text = str(exc)
        if (code in _VANISHED or "Errno 5]" in text or "disconnected" in text
                or "returned no data" in text):
            return LinkError(self.url, f"vanished during {what} (unplugged, or the emulator "
                             f"stopped): {text}")
        return LinkError(self.url, f"{what} failed: {text or type(exc).__name__}")
