"""Housekeeping telemetry: one strict JSON object per sample, in order, nothing lost."""

from __future__ import annotations

import json
import math
from pathlib import Path

from flight.telemetry import TelemetryWriter


def _strict_lines(path: Path) -> list[dict]:
    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    return [json.loads(line, parse_constant=no_constants)
            for line in path.read_text().splitlines()]


def test_samples_are_written_in_order_with_commands_as_cmd_names(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    w = TelemetryWriter(path, batch=4)
    for i in range(10):  # two whole batches and a part one, written at close
        w.write(i * 1.0, "IDLE", {"heater_temp_k": 300.0 + i, "valve_open": False},
                {"heater_power_w": float(i)}, {"link_crc_errors": i})
    w.close()
    rows = _strict_lines(path)
    assert w.samples == 10 and [r["t_s"] for r in rows] == [float(i) for i in range(10)]
    assert rows[3] == {"t_s": 3.0, "state": "IDLE", "heater_temp_k": 303.0,
                       "valve_open": False, "cmd_heater_power_w": 3.0, "link_crc_errors": 3}


def test_nan_and_infinity_anywhere_are_written_as_null(tmp_path: Path) -> None:
    """JSON has no NaN or infinity: a reading, a command or a diagnostic that is one
    becomes null, its neighbours and the other samples of the batch are untouched."""
    path = tmp_path / "telemetry.jsonl"
    w = TelemetryWriter(path, batch=3)
    w.write(0.0, "EXTRACT_HEAT", {"heater_temp_k": 300.0}, {"heater_power_w": 1.0})
    w.write(0.1, "EXTRACT_HEAT", {"heater_temp_k": math.nan, "sample_temp_k": math.inf},
            {"heater_power_w": -math.inf}, {"link_rtt_s": math.nan})
    w.write(0.2, "EXTRACT_HEAT", {"heater_temp_k": None}, {"heater_power_w": 2.0})
    w.close()
    rows = _strict_lines(path)
    assert rows[0]["heater_temp_k"] == 300.0
    assert rows[1] == {"t_s": 0.1, "state": "EXTRACT_HEAT", "heater_temp_k": None,
                       "sample_temp_k": None, "cmd_heater_power_w": None, "link_rtt_s": None}
    assert rows[2]["heater_temp_k"] is None and rows[2]["cmd_heater_power_w"] == 2.0
