"""The dictionary (common/dictionary): one row per channel and event, everything else
derived from it (DESIGN.md, "The dictionary"; issue #15)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from common.dictionary import DICTIONARY, HERE, load_dictionary
from common.errors import ConfigError
from flight.channels import ACTUATORS, REQUIRED_DEVICES, SAFE_COMMANDS, SENSORS
from ground.checkout import PLAUSIBLE
from ground.dictionary_docs import DOCS, render
from ground.gse.board_server import BOARD_DEVICES
from ground.gse.board_tables import HK_SOURCES
from hal.serial.board import CHANNELS
from hal.serial.icd import HK_LAYOUT

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_committed_doc_tables_are_the_dictionarys(doc: Path):
    text = doc.read_text(encoding="utf-8")
    assert "<!-- generated:" in text
    assert render(text) == text, f"{doc} is stale: run python -m ground.dictionary_docs"


def test_every_table_is_derived_from_the_dictionary():
    d = DICTIONARY
    assert list(SENSORS) == [c.name for c in d.channels.sensors]
    assert list(ACTUATORS) == list(SAFE_COMMANDS) == [c.name for c in d.channels.actuators]
    assert REQUIRED_DEVICES == BOARD_DEVICES == d.devices
    assert [f.name for f in HK_LAYOUT.fields] == [c.name for c in d.hk_fields]
    assert HK_LAYOUT.size == 32  # the ICD's housekeeping TM, unchanged by the move
    assert set(HK_SOURCES) == set(SENSORS)  # every sensor is in housekeeping
    assert set(PLAUSIBLE) == set(SENSORS)
    assert "heater_temp_k" in CHANNELS["thermometer"]


def test_every_event_the_code_emits_is_in_the_dictionary():
    emitted: set[str] = set()
    for pkg in ("flight", "ground", "hal"):
        for path in (ROOT / pkg).rglob("*.py"):
            emitted |= set(re.findall(r"""emit\(\s*["']([a-z_]+)["']""",
                                      path.read_text(encoding="utf-8")))
    assert len(emitted) >= 15
    assert emitted <= set(DICTIONARY.events), emitted - set(DICTIONARY.events)


def copy_dictionary(tmp_path: Path) -> Path:
    d = tmp_path / "dictionary"
    shutil.copytree(HERE, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return d


@pytest.mark.parametrize(("edit", "words"), [
    (lambda c: c["sensors"].append(dict(c["sensors"][0])), "name used twice"),
    (lambda c: c["actuators"][0].pop("safe"), "needs its SAFE value"),
    (lambda c: c["sensors"][0]["hk"].update(slot=40), "housekeeping slots must be"),
    (lambda c: c["sensors"][8]["device"].update(kind="valve"), "is a electrolyzer elsewhere"),
    (lambda c: c["sensors"][0].update(units="K"), "unknown key"),
])
def test_a_bad_row_is_refused_naming_the_file_and_the_row(tmp_path: Path, edit, words):
    d = copy_dictionary(tmp_path)
    channels = yaml.safe_load((d / "channels.yaml").read_text(encoding="utf-8"))
    edit(channels)
    (d / "channels.yaml").write_text(yaml.safe_dump(channels), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_dictionary(d)
    assert "channels.yaml" in str(exc.value) and words in str(exc.value)


# ---- a new sensor is one dictionary row plus its device in the hardware YAMLs ------------

NEW_ROW = {"name": "sample_top_temp_k", "unit": "K", "doc": "sample surface temperature",
           "device": {"role": "sample_top", "kind": "thermometer", "read": "read_temp_k"},
           "hk": {"slot": 13, "type": "u16", "scale": 0.01, "min": 0.0, "max": 655.35},
           "plausible": [20.0, 400.0]}


def env_with(dictionary: Path) -> dict[str, str]:
    return {**os.environ, "THERMINE_DICTIONARY": str(dictionary)}


def hardware_copy(tmp_path: Path, name: str, device: dict) -> Path:
    hw = yaml.safe_load((ROOT / "configs/hardware" / name).read_text(encoding="utf-8"))
    hw["devices"]["sample_top"] = device
    path = tmp_path / name
    path.write_text(yaml.safe_dump(hw), encoding="utf-8")
    return path


def test_a_new_sensor_flies_through_sim_and_serial_from_one_row(tmp_path: Path):
    d = copy_dictionary(tmp_path)
    channels = yaml.safe_load((d / "channels.yaml").read_text(encoding="utf-8"))
    channels["sensors"].append(NEW_ROW)
    (d / "channels.yaml").write_text(yaml.safe_dump(channels), encoding="utf-8")
    env = env_with(d)
    thermine = [sys.executable, "-m", "ground.cli"]
    quick = str(ROOT / "configs/missions/quick.yaml")
    sim = hardware_copy(tmp_path, "sim.yaml", {"kind": "thermometer",
                                               "channel": "sample_top_temp_k", "noise": 0.1})
    # SIL: the plant's top-layer thermometer, read and written like every other sensor
    run = subprocess.run([*thermine, "run", quick, "--hardware", str(sim), "--out",
                          str(tmp_path / "sil"), "--quiet", "--until", "400"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 4, run.stderr
    sil = [json.loads(x) for x in (tmp_path / "sil/telemetry.jsonl").read_text().splitlines()]
    keys = list(sil[-1])
    assert keys.index("sample_top_temp_k") == keys.index("valve_open") + 1  # telemetry order
    assert sil[-1]["sample_top_temp_k"] > sil[-1]["sample_temp_k"]  # heated from the top
    # serial: the board's housekeeping grows the field; the emulator fills it
    emu = subprocess.Popen([*thermine, "emulate", "--tcp", "0", "--lockstep", "--mission",
                            quick, "--hardware", str(sim)], env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, text=True)
    try:
        first = emu.stdout.readline()  # type: ignore[union-attr]
        port = re.search(r"127\.0\.0\.1:(\d+)", first)
        assert port, first
        bench = hardware_copy(tmp_path, "bench-emulator.yaml",
                              {"kind": "thermometer", "channel": "sample_top_temp_k"})
        hw = yaml.safe_load(bench.read_text(encoding="utf-8"))
        hw["serial"]["url"] = f"socket://127.0.0.1:{port.group(1)}"
        bench.write_text(yaml.safe_dump(hw), encoding="utf-8")
        run = subprocess.run([*thermine, "run", quick, "--hardware", str(bench), "--out",
                              str(tmp_path / "serial"), "--quiet", "--until", "400"],
                             env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert run.returncode == 4, run.stderr
    finally:
        emu.terminate()
        emu.wait(5)
    bench_tm = [json.loads(x) for x in
                (tmp_path / "serial/telemetry.jsonl").read_text().splitlines()]
    # the same plant, seed and noise on both sides of the wire (to the ICD's 0.01 K)
    assert bench_tm[-1]["sample_top_temp_k"] == pytest.approx(sil[-1]["sample_top_temp_k"],
                                                               abs=0.006)


@pytest.mark.parametrize(("edit", "words"), [
    (lambda c: c["ABORT"].update(opcode=1), "opcode: 1 is"),
    (lambda c: c["ABORT"].update(handler="x"), "exactly one of trigger and handler"),
    (lambda c: c["SAFE"].update(sources=["rover"]), "'rover' is not one of"),
    (lambda c: c["SET_HEATER_SETPOINT"]["args"]["setpoint_k"].update(encoding="u8"),
     "a float argument is one of f32, f64"),
    (lambda c: c["SET_HEATER_SETPOINT"]["args"]["setpoint_k"].update(type="int", max=1e10),
     "within its encoding i32"),
    (lambda c: c["POWER_CYCLE"]["args"]["actuator"].update(choices=["x"]),
     "choices or choices_from, not both"),
    (lambda c: c["ARM"]["args"]["command"].pop("choices"), "a str argument needs choices"),
    (lambda c: c["START_EXTRACTION"].update(hazardous={"arg": "command", "above": 1}),
     "must name a number argument"),
])
def test_a_bad_command_row_is_refused_naming_the_file_and_the_command(tmp_path: Path, edit,
                                                                      words):
    d = copy_dictionary(tmp_path)
    commands = yaml.safe_load((d / "commands.yaml").read_text(encoding="utf-8"))
    edit(commands)
    (d / "commands.yaml").write_text(yaml.safe_dump(commands), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_dictionary(d)
    assert "commands.yaml" in str(exc.value) and words in str(exc.value), str(exc.value)
