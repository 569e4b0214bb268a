"""``thermine plot RUN_DIR --html`` (issue #19): one self-contained timeline.html that
renders in a real browser with no network. Headless Debian chromium (/usr/bin/chromium,
.ci/run installs it), driven by playwright without a browser download. Without chromium
or playwright the browser test skips, except under CI (``CI`` set), where it fails."""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

from common.errors import ConfigError
from ground.cli import main
from ground.plot_html import plot_html
from ground.timeline_model import build_timeline

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs" / "missions" / "quick.yaml"
SIM = ROOT / "configs" / "hardware" / "sim.yaml"
PLAN = ROOT / "configs" / "faults" / "heater-open-circuit.yaml"
CHROMIUM = os.environ.get("THERMINE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """timeline.html of the quick mission with the heater element open (SAFE)."""
    out = tmp_path_factory.mktemp("html") / "heater-open"
    assert main(["run", str(QUICK), "--hardware", str(SIM), "--out", str(out), "--quiet",
                 "--faults", str(PLAN)]) == 1
    assert main(["plot", str(out), "--html"]) == 0
    return out / "timeline.html"


def test_html_is_one_self_contained_file(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text)  # plotly.js inlined (the browser
    # test below checks that opening it fetches nothing)
    assert "<title>timeline: quick" in text
    assert page.stat().st_size < 8_000_000


def _browser_or_skip() -> tuple[object, str]:
    """(playwright's sync_playwright, chromium's path), or skip (fail under CI)."""
    why = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = "playwright is not installed (pip install -e '.[dev]')"
    exe = CHROMIUM if Path(CHROMIUM).exists() else (shutil.which("chromium") or "")
    if not why and not exe:
        why = (f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run does, "
               "THERMINE_CHROMIUM names another)")
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test of timeline.html: {why}")
        pytest.skip(why)
    return sync_playwright, exe


def test_html_renders_in_headless_chromium(page: Path) -> None:
    sync_playwright, exe = _browser_or_skip()
    tl = build_timeline(page.parent)
    t0 = time.monotonic()
    errors: list[str] = []
    remote: list[str] = []
    with sync_playwright() as p:  # type: ignore[operator]
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.on("request", lambda r: remote.append(r.url)
                   if not r.url.startswith(("file:", "data:", "blob:")) else None)
            tab.goto(page.as_uri())
            tab.wait_for_selector("svg.main-svg", timeout=15_000)
            tab.wait_for_function(
                "document.querySelectorAll('.scatterlayer .trace path.js-line').length > 20",
                timeout=15_000)
            all_text = tab.evaluate(
                "Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)"
                ".join('\\n')")
            n_panels = tab.locator(".cartesianlayer .subplot").count()
            drawn = tab.evaluate(
                "Array.from(document.querySelectorAll('.scatterlayer path.js-line'))"
                ".filter(p => (p.getAttribute('d') || '').length > 20).length")
            title = tab.title()
        finally:
            browser.close()
    assert errors == [], errors
    assert remote == [], remote  # nothing fetched from the network
    assert title.startswith("timeline: quick")
    assert tl.title[0] in all_text  # the run's title (mission, seed, run id)
    assert "SAFE because heater_not_heating" in all_text
    assert "limit heater plate > 480 K" in all_text  # a band, in its legend
    assert n_panels == len(tl.panels) + 1  # the lane and every panel
    assert drawn > 20  # traces really drawn, not empty paths
    assert time.monotonic() - t0 < 10.0


def test_without_plotly_it_says_how_to_install_it(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("plotly", "plotly.graph_objects", "plotly.subplots"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ConfigError, match=r"thermine\[plots\]"):
        plot_html(tmp_path)
