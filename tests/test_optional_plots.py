"""matplotlib is an optional extra (``thermine[plots]``): without it a picture asked
for is a clear error saying how to install it, and a campaign report is still written
(issue #15)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from common.errors import ConfigError
from ground.campaign.report_html import write_figures
from ground.plot import plot_run


def test_without_matplotlib_a_plot_says_how_to_install_it(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    (tmp_path / "telemetry.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"thermine\[plots\]"):
        plot_run(tmp_path)
    assert write_figures(None, tmp_path) == {}  # type: ignore[arg-type]
    assert not (tmp_path / "latency.png").exists()
