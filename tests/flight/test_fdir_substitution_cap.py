"""A sensor substitution caps the actuators it could drive unsafe (issue #14, story 2).

A loop closed on a substitute cannot be trusted to keep the plant in its limits (the
sample bottom reads hundreds of K below the plate across a dry sample), so while a
``switch_sensor`` holds, the actuators of its ``cap`` are held at or below their caps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from flight.app import state_names
from flight.channels import ACTUATORS, SENSORS
from flight.fdir.engine import Fdir
from flight.fdir.table import (
    BUILTIN_RESPONSES,
    FdirTable,
    MonitorConfig,
    ResponseConfig,
    load_table,
)

ROOT = Path(__file__).resolve().parents[2]
OUT = {"heater_power_w": 25.0, "heater_enabled": True, "valve_open": False,
       "cryocooler_on": True, "trap_heater_enabled": False, "trap_heater_power_w": 0.0,
       "electrolyzer_current_a": 0.0}


def engine(cap: dict[str, float]) -> tuple[Fdir, list[str]]:
    stale = MonitorConfig(id="stale", kind="stale", telemetry="heater_temp_k", stale_s=3.0,
                          response="use_sample")
    use_sample = ResponseConfig(action="switch_sensor", sensor="heater_temp_k",
                                substitute="sample_temp_k", cooldown_s=10.0, cap=cap)
    safe: list[str] = []
    fdir = Fdir(FdirTable((stale,), {**BUILTIN_RESPONSES, "use_sample": use_sample}),
                safe.append, lambda e, **f: None, fire=lambda t, r: True)
    return fdir, safe


def test_the_cap_holds_while_the_substitute_is_in_use_and_lifts_when_the_sensor_is_back():
    fdir, safe = engine({"heater_power_w": 0.8})
    t = 0.0
    fdir.check(t, "EXTRACT_HEAT", {"heater_temp_k": 360.0, "sample_temp_k": 250.0})
    assert fdir.shape(OUT)[0]["heater_power_w"] == 25.0  # healthy: not capped
    while not fdir.responder.substitutions:
        t += 0.1
        fdir.check(t, "EXTRACT_HEAT", {"heater_temp_k": None, "sample_temp_k": 250.0})
    shaped, _ = fdir.shape(OUT)
    assert shaped["heater_power_w"] == 0.8
    assert shaped["cryocooler_on"] is True  # only what the cap names
    assert fdir.shape({**OUT, "heater_power_w": 0.3})[0]["heater_power_w"] == 0.3  # a cap
    for _ in range(600):  # a minute on the substitute: still capped, no escalation
        t += 0.1
        fdir.check(t, "EXTRACT_HEAT", {"heater_temp_k": None, "sample_temp_k": 250.0})
    assert fdir.shape(OUT)[0]["heater_power_w"] == 0.8 and safe == []
    fdir.check(t + 0.1, "EXTRACT_HEAT", {"heater_temp_k": 350.0, "sample_temp_k": 250.0})
    assert fdir.shape(OUT)[0]["heater_power_w"] == 25.0


def write(tmp_path: Path, response: str) -> Path:
    path = tmp_path / "fdir.yaml"
    path.write_text(f"responses:\n  x: {response}\nmonitors:\n"
                    "  - {id: a, kind: stale, telemetry: heater_temp_k, stale_s: 3, "
                    "response: x}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("response", "key", "words"), [
    ("{action: switch_sensor, sensor: heater_temp_k, substitute: sample_temp_k}",
     "responses.x.cap", "safe whatever the substitute reads"),
    ("{action: switch_sensor, sensor: heater_temp_k, substitute: sample_temp_k, "
     "cap: {heater_w: 1.0}}", "responses.x.cap.heater_w", "unknown actuator 'heater_w'"),
    ("{action: switch_sensor, sensor: heater_temp_k, substitute: sample_temp_k, "
     "cap: {heater_power_w: -1.0}}", "responses.x.cap.heater_power_w", ">= 0"),
    ("{action: retry, cap: {heater_power_w: 1.0}}", "responses.x.cap",
     "only a switch_sensor"),
])
def test_a_substitution_without_a_safe_cap_is_refused_at_load(tmp_path: Path, response, key,
                                                              words):
    with pytest.raises(ConfigError) as exc:
        load_table(write(tmp_path, response), set(SENSORS), set(ACTUATORS), state_names())
    assert key in str(exc.value) and words in str(exc.value)


def test_every_substitution_of_the_shipped_table_caps_the_heater_it_feeds():
    table = load_table(ROOT / "common/dictionary/fdir.yaml", set(SENSORS), set(ACTUATORS),
                       state_names())
    subs = [r for r in table.responses.values() if r.action == "switch_sensor"]
    assert subs, "the shipped table has a substitution"
    for r in subs:
        # the heater loop reads heater_temp_k (HeaterController.READS): its cap must be
        # below the plate's radiative loss at the cut-off (1.04 W, docs/fdir.md)
        if r.sensor == "heater_temp_k":
            assert r.cap is not None and r.cap["heater_power_w"] <= 1.0
