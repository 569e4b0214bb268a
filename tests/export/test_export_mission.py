"""The mission the export tests decode: downlink.bin's HK packets are the flight
Downlink's packing of telemetry.jsonl, byte for byte (so the fallback packer of
conftest.py, used when a run writes no downlink.bin, tests the same thing)."""

from __future__ import annotations

from typing import Any

import pytest

from flight.tmtc.layout import HK


def test_downlink_bin_is_telemetry_jsonl_packed(mission: Any, packer: Any) -> None:
    if mission.source != "downlink.bin":
        pytest.skip("this run wrote no downlink.bin: the export tests use the packer")
    assert mission.of_apid(HK.apid) == packer(mission.telemetry)
