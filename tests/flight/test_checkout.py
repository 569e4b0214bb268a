"""thermine checkout: PASS/FAIL table over the ports, on the sim backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground import checkout as co
from ground.cli import main
from hal.errors import DeviceTimeout

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "configs/hardware/sim.yaml"


def test_checkout_passes_on_the_sim_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checkout", "--hardware", str(SIM)]) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out and "FAIL" not in out
    for name in co.PLAUSIBLE:
        assert f"read {name}" in out
    assert "cryocooler on and off" in out and "bus +" in out


def test_missing_device_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SIM.read_text().replace(
        "  cryocooler:       {kind: cryocooler}\n", "")
    assert "cryocooler:" not in text.split("devices:")[1]
    bad = tmp_path / "no-cryo.yaml"
    bad.write_text(text)
    assert main(["checkout", "--hardware", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "cryocooler" in err and "missing device" in err


def test_a_dead_sensor_and_a_dead_actuator_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sensor that times out and a heater that does not answer give FAIL rows naming
    them, the rest still runs, and the exit code is 1."""
    real_build = co.build_platform

    def broken(*args, **kwargs):
        platform = real_build(*args, **kwargs)

        def dead(*_a, **_k):
            raise DeviceTimeout("trap_temp", "no answer")

        platform.devices["trap_temp"].read_temp_k = dead
        platform.devices["heater"].set_power_w = dead
        return platform

    monkeypatch.setattr(co, "build_platform", broken)
    lines: list[str] = []
    assert co.checkout(SIM, out=lines.append) == 1
    table = "\n".join(lines)
    assert "FAIL  read trap_temp_k" in table and "no answer" in table
    assert "FAIL  heater 1 W and back" in table
    assert "PASS  cryocooler on and off" in table
    assert "2 failed" in lines[-1] or "3 failed" in lines[-1]
