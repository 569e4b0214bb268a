"""``thermine campaign``: run a campaign, and ``thermine campaign rerun`` one of its runs.

    thermine campaign configs/campaigns/single-faults.yaml [--workers N]
                      [--executor local|dask://HOST:PORT] [--out DIR] [--rerun-all]
    thermine campaign rerun CAMPAIGN_DIR RUN_ID [--out DIR]

Exit codes: 0 every run passed; 1 a run failed, erred or timed out; 2 bad input (nothing
is created), a directory in use by another campaign or flown by other code (resume it
with --rerun-all); 4 interrupted (Ctrl-C or SIGTERM; no verdict): the same command
resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import difflib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from common.errors import ConfigError

EXIT_GREEN, EXIT_RED, EXIT_INTERRUPTED = 0, 1, 4


def add_parser(sub: Any) -> None:
    """Add the ``campaign`` subcommand to the ``thermine`` parser."""
    c = sub.add_parser(
        "campaign", help="run a fault-injection campaign, or rerun one of its runs",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("campaign", metavar="CAMPAIGN_YAML | rerun",
                   help="campaign YAML (configs/campaigns/*.yaml), or 'rerun'")
    c.add_argument("rest", nargs="*", metavar="CAMPAIGN_DIR RUN_ID",
                   help="with rerun: the campaign's output directory and the run id")
    c.add_argument("--workers", type=int, help="local worker processes (default: CPU count)")
    c.add_argument("--executor", default="local",
                   help="local (default) or dask://HOST:PORT of a Dask scheduler")
    c.add_argument("--out", type=Path,
                   help="output directory (default runs/campaign-<name>); an existing one "
                   "of the same campaign is resumed")
    c.add_argument("--rerun-all", action="store_true",
                   help="discard the results already in --out and fly every run again "
                   "(needed to resume a campaign that other code flew)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Dispatch ``thermine campaign ...``; returns the exit code.

    Raises:
        ConfigError: bad campaign, directory, run id or executor.
    """
    try:
        return _main(args)
    except KeyboardInterrupt:  # before the runs started (loading) or in a rerun
        print("thermine: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(args: argparse.Namespace) -> int:
    if args.campaign == "rerun":
        if len(args.rest) != 2:
            raise ConfigError("campaign rerun", "give CAMPAIGN_DIR RUN_ID")
        if args.rerun_all:
            raise ConfigError("--rerun-all", "goes with a campaign YAML, not with rerun")
        return cmd_rerun(Path(args.rest[0]), args.rest[1], args.out)
    if args.rest:
        raise ConfigError("campaign", f"unexpected arguments {args.rest}")
    return cmd_campaign(Path(args.campaign), args.out, args.workers, args.executor,
                        not args.quiet, args.rerun_all)


def cmd_campaign(path: Path, out: Path | None, workers: int | None, executor: str,
                 progress: bool = True, rerun_all: bool = False) -> int:
    """Load, run (or resume), report. Returns the exit code.

    Everything is checked before the output directory is created or written (a
    rejected campaign leaves nothing behind); the directory is locked from then until
    the reports are written.

    Raises:
        ConfigError: a bad campaign, mission, plan, worker count, executor or output
            directory; a directory of another campaign or (without ``rerun_all``) of
            other code.
        DirectoryBusy: another campaign is running in the output directory.
    """
    from ground.campaign.engine import check_executor, fly, open_campaign, sigterm_as_ctrl_c
    from ground.campaign.report_files import write_reports
    from ground.campaign.report_tables import outcome_table
    from ground.campaign.spec import load_campaign

    check_executor(executor, workers)
    campaign = load_campaign(path)
    out = out or Path("runs") / f"campaign-{campaign.config.name}"
    with sigterm_as_ctrl_c(), \
            open_campaign(campaign, out, executor, workers, rerun_all) as session:
        note = (" (--rerun-all: earlier results discarded)" if rerun_all else
                f" (resuming: {len(session.done)} done)" if session.done else "")
        print(f"thermine: campaign '{campaign.config.name}': {len(campaign.runs)} runs -> "
              f"{out}{note}")
        result = fly(session, progress)
        meta = {
            "name": campaign.config.name, "campaign_file": str(path),
            "mission": campaign.config.mission, "hardware": campaign.config.hardware,
            "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "code_version": session.code_version,
            "planned_runs": len(campaign.runs), "interrupted": result.interrupted,
            "workers": workers or (os.cpu_count() if executor == "local" else "cluster's"),
            "executor": result.executor, "wall_time_s": result.wall_time_s,
            "resumed_runs": result.resumed_runs,
            "criteria": json.loads(json.dumps(campaign.resolved()["criteria"])),
            "dispersions": json.loads(json.dumps(campaign.resolved()["dispersions"])),
            "rerun_hint": f"thermine campaign rerun {out} RUN_ID"}
        paths = write_reports(out, meta, result.records)
        print(outcome_table(result.records, len(campaign.runs), result.interrupted))
        print(f"report: {paths.get('report.md', out / 'report.md')}  "
              f"(also report.html, junit.xml, results.jsonl)")
    if result.interrupted:
        print(f"thermine: interrupted with {result.tally.done} of {result.tally.planned} runs "
              "done; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    c = result.tally.counts
    return EXIT_GREEN if c["pass"] == result.tally.planned else EXIT_RED


def cmd_rerun(campaign_dir: Path, run_id: str, out: Path | None) -> int:
    """Replay one run of a campaign exactly, keeping its telemetry and plot.

    Exit 0 when the replay reproduces the recorded telemetry bit for bit (or the run
    was never recorded), 1 when it differs. Warns when an input file or the code
    changed since the campaign ran.

    Raises:
        ConfigError: ``campaign_dir`` is not a campaign directory, or has no ``run_id``.
    """
    from ground.campaign import version
    from ground.campaign.outdir import RESOLVED, RESULTS, code_changed, read_results, recorded
    from ground.campaign.runner import run_one
    from ground.campaign.spec import load_campaign

    resolved = campaign_dir / RESOLVED
    if not resolved.exists():
        raise ConfigError(str(campaign_dir), f"no {RESOLVED}: not a campaign directory")
    campaign = load_campaign(resolved)
    by_id = {s.run_id: s for s in campaign.runs}
    if run_id not in by_id:
        near = difflib.get_close_matches(run_id, list(by_id), n=3)
        raise ConfigError("RUN_ID", f"no run {run_id!r} in {campaign_dir}"
                          + (f"; did you mean {', '.join(near)}?" if near else ""))
    old = recorded(campaign_dir)
    recorded_inputs = old.get("inputs_sha256") or {}
    changed = [k for k, v in campaign.inputs_sha256.items() if recorded_inputs.get(k) != v]
    if changed:
        print(f"thermine: warning: inputs changed since the campaign ran ({', '.join(changed)})"
              ": the replay may differ", file=sys.stderr)
    code = code_changed(old, version.code_version())
    if code:
        print(f"thermine: warning: the code changed since the campaign ran ({code}): the "
              "replay may differ", file=sys.stderr)
    spec = by_id[run_id]
    t0 = time.perf_counter()
    record, files = run_one(dataclasses.replace(spec, keep="all"))
    out = out or campaign_dir / "rerun" / run_id
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    print(f"run {run_id}: {record['outcome']} in {time.perf_counter() - t0:.1f} s  "
          f"(final state {record['final_state']})")
    for reason in record["reasons"]:
        print(f"  - {reason}")
    if record.get("error"):
        print(record["error"], file=sys.stderr)
    print(f"files in {out}")
    old_record = {r["run_id"]: r for r in read_results(campaign_dir / RESULTS)}.get(run_id)
    if old_record is None:
        print("not in results.jsonl: nothing to compare with")
        return EXIT_GREEN
    if old_record.get("telemetry_sha256") == record["telemetry_sha256"]:
        print(f"reproduced bit for bit: telemetry sha256 {record['telemetry_sha256']}")
        return EXIT_GREEN
    print(f"DIFFERS from the campaign: telemetry sha256 {record['telemetry_sha256']} "
          f"(recorded {old_record.get('telemetry_sha256')})")
    return EXIT_RED
