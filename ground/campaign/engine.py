"""Running a campaign: executors, the results file, resume, Ctrl-C, the progress bar.

Runs go through a :class:`concurrent.futures.Executor`: local processes by default, or a
Dask cluster (``dask://HOST:PORT``) through ``Client(address).get_executor(pure=False)``.
Each finished run appends one whole line to ``results.jsonl`` (flushed and synced), so
the file is consistent whenever the campaign stops; running the same command on the same
directory resumes, skipping the runs already there, as long as the same code flies it
(``campaign.yaml`` records :func:`ground.campaign.version.code_version`). One campaign at a
time per directory: :func:`open_campaign` holds its lock (``DIR/.lock``) throughout.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from common.errors import ConfigError
from ground.campaign import version
from ground.campaign.outdir import RESULTS, check_out_dir, check_resume, prepare_dir
from ground.campaign.runner import blank_record, run_one
from ground.campaign.spec import Campaign, RunSpec
from ground.dirlock import lock_directory


def _worker_init() -> None:
    """Local workers leave Ctrl-C and SIGTERM to the parent, which stops the campaign
    cleanly: a signal to the whole process group (a terminal's Ctrl-C, a service
    manager's stop) must not kill a run half-way and record it as an error."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """While the block runs, SIGTERM (``kill``, a service manager, a CI job's timeout)
    stops the campaign as Ctrl-C does: no new runs, the runs in flight finish, the report
    says INTERRUPTED. SIGINT is taken the same way even where the campaign was started
    with it ignored (a shell's background job: ``kill -INT`` still stops it, as it stops
    ``thermine run``). Outside the main thread (where signals cannot be handled) it does
    nothing."""
    try:
        old = {sig: signal.signal(sig, _raise_interrupt)
               for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def check_executor(executor: str, workers: int | None) -> None:
    """Check the executor's name and the worker count without starting anything.

    Raises:
        ConfigError: a worker count below 1, an unknown executor or a Dask address
            without a host.
    """
    if workers is not None and workers < 1:
        raise ConfigError("--workers", f"must be >= 1, got {workers}")
    if executor == "local":
        return
    if executor.startswith(("dask://", "tcp://")):
        if not executor.split("://", 1)[1].strip():
            raise ConfigError("--executor", f"{executor!r} has no HOST:PORT")
        return
    raise ConfigError("--executor", f"unknown executor {executor!r}; use local or "
                      "dask://HOST:PORT")


@contextlib.contextmanager
def make_executor(executor: str, workers: int | None) -> Iterator[tuple[Executor, str]]:
    """``local`` -> a process pool of ``workers`` (default: the CPU count; its processes
    start with the first run); ``dask://HOST:PORT`` (or ``tcp://``) -> that Dask
    scheduler's executor.

    Raises:
        ConfigError: an unknown executor, a bad worker count, Dask not installed or the
            scheduler not answering.
    """
    check_executor(executor, workers)
    if executor == "local":
        n = workers or os.cpu_count() or 1
        pool = ProcessPoolExecutor(max_workers=n, initializer=_worker_init,
                                   mp_context=multiprocessing.get_context("spawn"))
        try:
            yield pool, f"local ({n} worker processes)"
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return
    if executor.startswith(("dask://", "tcp://")):
        address = "tcp://" + executor.split("://", 1)[1]
        try:
            from dask.distributed import Client
        except ImportError:
            raise ConfigError("--executor", "Dask is not installed: pip install "
                              "'thermine[dask]'") from None
        try:
            client = Client(address, timeout="10s")
        except OSError as exc:
            raise ConfigError("--executor", f"no Dask scheduler at {address}: {exc}") from None
        try:
            n = len(client.scheduler_info().get("workers", {}))
            yield client.get_executor(pure=False), f"dask {address} ({n} workers)"
        finally:
            client.close()


@dataclass
class Tally:
    """Counts for the progress bar and the exit code."""

    planned: int
    done: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"pass": 0, "fail": 0, "error": 0,
                                                            "timeout": 0})

    def add(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.counts[record["outcome"]] = self.counts.get(record["outcome"], 0) + 1


class ProgressBar:
    """``[#####-----]  50/100  pass 48  fail 1  error 1  ETA 0:00:23`` on stderr:
    redrawn in place on a terminal, a line per 10 % otherwise."""

    def __init__(self, tally: Tally, clock: Callable[[], float], stream: IO[str] | None = None,
                 enabled: bool = True) -> None:
        self.tally, self.clock = tally, clock
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.t0 = clock()
        self.start_done = tally.done
        self._last_decile = -1
        self._printed = -1

    def line(self) -> str:
        t = self.tally
        width = 24
        filled = width * t.done // max(t.planned, 1)
        new = t.done - self.start_done
        elapsed = self.clock() - self.t0
        eta = "--:--:--"
        if new > 0:
            left = elapsed / new * (t.planned - t.done)
            eta = time.strftime("%H:%M:%S", time.gmtime(left))
        c = t.counts
        return (f"[{'#' * filled}{'-' * (width - filled)}] {t.done:4d}/{t.planned}  "
                f"pass {c['pass']}  fail {c['fail']}  error {c['error'] + c['timeout']}  "
                f"ETA {eta}")

    def update(self, final: bool = False) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r" + self.line() + ("\n" if final else ""))
            self.stream.flush()
            return
        decile = 10 * self.tally.done // max(self.tally.planned, 1)
        if decile != self._last_decile or (final and self._printed != self.tally.done):
            self._last_decile, self._printed = decile, self.tally.done
            print(self.line(), file=self.stream, flush=True)


def _write_run_files(out_dir: Path, record: dict[str, Any], files: dict[str, bytes]) -> None:
    if not files or not record.get("run_dir"):
        return
    run_dir = out_dir / record["run_dir"]
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (run_dir / name).write_bytes(data)


def _infra_error(spec: RunSpec, exc: BaseException) -> dict[str, Any]:
    """A results line for a run the executor lost (a worker died, the cluster went away)."""
    record = blank_record(spec)
    record["reasons"] = [f"executor lost the run: {type(exc).__name__}: {exc}"]
    record["error"] = "".join(traceback.format_exception(exc))
    return record


def _append_line(fd: int, line: str) -> None:
    """Append ``line`` + newline with one system call and sync it: Python delivers a
    Ctrl-C between bytecodes, never inside ``os.write``, so the line is whole or absent
    (a kill mid-write leaves a torn tail that :func:`read_results` cuts off)."""
    data = (line + "\n").encode("utf-8")
    while data:
        data = data[os.write(fd, data):]
    os.fsync(fd)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


@dataclass
class CampaignResult:
    records: list[dict[str, Any]]
    tally: Tally
    interrupted: bool
    executor: str
    wall_time_s: float
    #: runs found finished in results.jsonl when this invocation started (a resume)
    resumed_runs: int = 0


@dataclass
class Session:
    """An open campaign: validated, its executor up, its directory locked and prepared."""

    campaign: Campaign
    out_dir: Path
    executor: Executor
    label: str
    #: records found finished in results.jsonl (the runs a resume skips)
    done: list[dict[str, Any]]
    #: the running code's version, as recorded in campaign.yaml (version.code_version)
    code_version: dict[str, str]


@contextlib.contextmanager
def open_campaign(campaign: Campaign, out_dir: Path, executor: str = "local",
                  workers: int | None = None, rerun_all: bool = False) -> Iterator[Session]:
    """Check everything, then start the executor, lock ``out_dir`` and prepare it.

    Nothing is created or written before the worker count, the executor (a Dask
    scheduler must answer) and ``out_dir`` (fit to be a campaign directory, and if it is
    one, of this campaign and this code) passed their checks, so a rejected campaign
    leaves nothing behind. The directory stays locked (``DIR/.lock``) until the block
    ends: write the reports inside it. ``rerun_all`` discards the results there.

    Raises:
        ConfigError: a bad worker count or executor, an unusable ``out_dir``, one that
            holds another campaign or results of other code (without ``rerun_all``).
        DirectoryBusy: another live process runs a campaign in ``out_dir``.
    """
    check_executor(executor, workers)
    check_out_dir(out_dir)
    code = version.code_version()
    check_resume(campaign, out_dir, code, rerun_all)  # again under the lock, to be sure
    with make_executor(executor, workers) as (ex, label), \
            lock_directory(out_dir, "campaign"):
        done = prepare_dir(campaign, out_dir, code, rerun_all)
        yield Session(campaign, out_dir, ex, label, done, code)


def run_campaign(campaign: Campaign, out_dir: Path, executor: str = "local",
                 workers: int | None = None, progress: bool = True,
                 clock: Callable[[], float] = time.perf_counter,
                 stream: IO[str] | None = None, rerun_all: bool = False) -> CampaignResult:
    """:func:`open_campaign` and :func:`fly` it; the lock is gone when this returns.

    Raises:
        ConfigError: as :func:`open_campaign`.
        DirectoryBusy: another live process runs a campaign in ``out_dir``.
    """
    result: CampaignResult | None = None
    try:
        with open_campaign(campaign, out_dir, executor, workers, rerun_all) as session:
            result = fly(session, progress, clock, stream)
    except KeyboardInterrupt:  # while stopping the executor
        if result is None:
            raise
        result.interrupted = True
    assert result is not None
    return result


def fly(session: Session, progress: bool = True,
        clock: Callable[[], float] = time.perf_counter,
        stream: IO[str] | None = None) -> CampaignResult:
    """Fly every run of the session's campaign not yet in ``results.jsonl``.

    Ctrl-C or SIGTERM stops submitting, waits for the runs in flight (a second one
    abandons them) and returns with ``interrupted`` set; the results file stays whole.

    Raises:
        OSError: the results file cannot be written.
    """
    campaign, out_dir, ex, done = session.campaign, session.out_dir, session.executor, \
        session.done
    finished = {r["run_id"] for r in done}
    todo = [s for s in campaign.runs if s.run_id not in finished]
    tally = Tally(planned=len(campaign.runs))
    for r in done:
        tally.add(r)
    records = list(done)
    bar = ProgressBar(tally, clock, stream, progress)
    t0 = clock()
    interrupted = False
    fd = os.open(out_dir / RESULTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        with sigterm_as_ctrl_c():
            pending: dict[Future[Any], RunSpec] = {}
            for spec in todo:
                pending[ex.submit(run_one, spec)] = spec
            bar.update()
            while pending:
                try:  # Ctrl-C may come anywhere in here: only whole lines reach the file
                    finished_now, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished_now:
                        spec = pending.pop(fut)
                        try:
                            record, files = fut.result()
                        except Exception as exc:  # noqa: BLE001 - the executor lost it
                            record, files = _infra_error(spec, exc), {}
                        _write_run_files(out_dir, record, files)
                        record = _clean(record)
                        _append_line(fd, json.dumps(record, allow_nan=False))
                        records.append(record)
                        tally.add(record)
                        bar.update()
                except KeyboardInterrupt:
                    if interrupted:  # second Ctrl-C: abandon the runs in flight
                        break
                    interrupted = True
                    for fut in pending:
                        fut.cancel()
                    pending = {f: s for f, s in pending.items() if not f.cancelled()}
                    print(f"\nthermine: stopping: waiting for {len(pending)} run(s) in "
                          "flight (Ctrl-C again to abandon them)", file=bar.stream, flush=True)
    except KeyboardInterrupt:  # while submitting (the local pool starts its processes)
        interrupted = True
    finally:
        os.close(fd)
    bar.update(final=True)
    records.sort(key=lambda r: r["index"])
    return CampaignResult(records, tally, interrupted, session.label, clock() - t0, len(done))
