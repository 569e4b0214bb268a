"""What `thermine run` prints, read as an operator reads it (#19's console points): each
line stamped with mission time and without trailing blanks, FDIR trips as sentences, no
``-0.0 W``, short runs in seconds, the time limit said, a bare ``thermine`` and
``--version`` answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.cli import main
from ground.run_cli import _event_line, _fixed, mission_time

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"


def test_a_short_run_says_seconds_every_line_has_its_time_and_the_limit_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(QUICK), "--hardware", str(SIM), "--out", str(tmp_path / "r"),
                 "--until", "60"]) == 4
    captured = capsys.readouterr()
    out, err = captured.out.splitlines(), captured.err.splitlines()
    assert all(line == line.rstrip() for line in out + err)
    changes = [line for line in err if " -> " in line and "t=" in line]  # progress: stderr
    assert changes and all(line.lstrip().startswith("t=") for line in changes)
    assert "  t=      5.0 s  IDLE -> EXTRACT_HEAT  (START_EXTRACTION command (mission))" in err
    assert not any(" -> EXTRACT" in line for line in out)  # the results alone on stdout
    assert any(line.startswith("mission time       60.0 s ") for line in out)
    assert any(line.startswith("ended by           the time limit at 60.0 s") for line in out)
    # no water has left the sample in 60 s: no floor, said in words (not 'n/ax the floor')
    (energy,) = [line for line in out if line.startswith("energy per kg")]
    assert energy.endswith("no floor (no water left the sample)") and "n/ax" not in energy


def test_an_fdir_trip_and_a_refusal_read_as_sentences() -> None:
    trip = _event_line("fdir_trip", {
        "monitor": "heater_temp_noisy", "kind": "noise", "value": 104.4406131648511,
        "detail": "heater_temp_k noise 104.4 (1 sigma) over 5 s (limit 3)",
        "response": "use_sample_temp"}, 22465.2)
    assert trip == ("  t=  22465.2 s  ! FDIR heater_temp_noisy: heater_temp_k noise 104.4 "
                    "(1 sigma) over 5 s (limit 3) -> use_sample_temp")
    refused = _event_line("command", {"name": "RECOVER", "source": "ground",
                                      "accepted": False, "detail": "guard refused it"}, 3.0)
    assert refused == "  t=      3.0 s  ! RECOVER (ground) refused: guard refused it"
    assert _event_line("command", {"name": "SAFE", "accepted": True}, 1.0) is None


def test_noise_about_zero_has_no_sign_and_times_read_naturally() -> None:
    assert _fixed(-0.03, ".1f") == "0.0" and _fixed(-0.0, ".1f") == "0.0"
    assert _fixed(-0.3, ".1f") == "-0.3" and _fixed(None, ".1f") == "-"
    assert mission_time(60.0) == "60.0 s" and mission_time(22464.0) == "6.24 h"


def test_bare_thermine_shows_what_it_can_do_and_version_answers(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: thermine" in err and "choose a COMMAND" in err and "``" not in err
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("thermine ")


def test_states_draws_every_timeout_to_safe_and_no_state_as_active() -> None:
    from flight.sequencer import leaf_states, load_chart
    from ground.states_diagram import mermaid

    text = mermaid()
    assert "s_active" not in text.split("classDef s_active", 1)[1]  # only its definition
    for name, leaf in leaf_states(load_chart()).items():
        if leaf.get("on_timeout") == "safe":
            edge = [ln for ln in text.splitlines() if ln.strip().startswith(f"{name} --> SAFE")]
            assert edge and f"timeout_{leaf['timeout_s']:g}s" in edge[0], name


def test_checkout_skips_what_it_cannot_move_and_says_switches_in_words() -> None:
    """A dry reservoir: the electrolyzer cannot carry current, so its row is SKIP (not a
    PASS that moved nothing); the valve reads 'closed', not '0 - (0..0 -)'."""
    from ground.checkout import checkout

    lines: list[str] = []
    assert checkout(SIM, lines.append) == 0
    (stack,) = [ln for ln in lines if "electrolyzer" in ln]
    assert stack.lstrip().startswith("SKIP") and "(water to split)" in stack
    assert any("read valve_open" in ln and "closed" in ln and "(closed)" in ln for ln in lines)
    assert lines[-1].endswith("1 skipped (not verifiable as the payload is)")
    assert not any("+>" in ln for ln in lines)


def test_json_prints_the_summary_on_stdout_and_quiet_silences_progress(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["run", str(QUICK), "--hardware", str(SIM), "--out", str(tmp_path / "r"),
                 "--until", "30", "--json", "--quiet"]) == 4
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary == json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["end_reason"] == "time_limit" and captured.err == ""


def test_a_reader_that_stops_early_is_not_an_internal_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`thermine states | head -1`: the reader closes the pipe; the command stops
    quietly with 141 (128 + SIGPIPE, as a shell says it), no traceback, no 'bug'."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone: a write raises BrokenPipeError
    with os.fdopen(write_end, "w", buffering=1) as stdout:  # (line-buffered: a terminal)
        monkeypatch.setattr("sys.stdout", stdout)
        assert main(["states"]) == 141
        monkeypatch.undo()
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
