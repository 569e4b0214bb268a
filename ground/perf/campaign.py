"""``thermine bench``: a campaign's wall time with 1 and 2 local workers.

The figures are printed, never asserted. The runs are the first N of the shipped
single-fault campaign (its fault-free runs, faults that safe early, faults that are
dormant and fly the whole quick mission): a fair mix of short and long runs.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from ground.campaign.engine import run_campaign
from ground.campaign.spec import load_campaign


def bench_campaign(path: Path, runs: int = 100, workers: Sequence[int] = (1, 2),
                   ) -> dict[int, dict[str, float]]:
    """Fly the first ``runs`` runs of the campaign at ``path`` once per worker count;
    print and return {workers: {wall_s, runs_per_s, max_rss_mb, mission_s}}."""
    campaign = load_campaign(path)
    if runs < len(campaign.runs):
        campaign = dataclasses.replace(campaign, runs=campaign.runs[:runs])
    out: dict[int, dict[str, float]] = {}
    print(f"  campaign              {len(campaign.runs)} runs of {path} "
          "(quick mission, SIL, local processes)")
    for n in workers:
        with tempfile.TemporaryDirectory(prefix="thermine-bench-") as tmp:
            t0 = time.perf_counter()
            result = run_campaign(campaign, Path(tmp) / "c", workers=n, progress=False)
            wall = time.perf_counter() - t0
        recs = result.records
        rss = max((r["worker_rss_mb"] or 0.0) for r in recs)
        mission = sum((r["mission_time_s"] or 0.0) for r in recs)
        out[n] = {"wall_s": wall, "runs_per_s": len(recs) / wall, "max_rss_mb": rss,
                  "mission_s": mission}
        base = out[min(out)]["wall_s"] * min(out) if out else wall
        speedup = base / wall
        print(f"  campaign, {n} worker{'s' if n > 1 else ' '}    {wall:8.1f} s wall  "
              f"({len(recs) / wall:.2f} runs/s, speed-up {speedup:.2f}x, "
              f"worker RSS max {rss:.0f} MB, "
              f"{result.tally.counts['pass']}/{len(recs)} passed)")
    return out
