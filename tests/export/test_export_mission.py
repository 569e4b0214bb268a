"""The mission the export tests decode: downlink.bin's HK (and OPS) packets are the flight
Downlink's packing of telemetry.jsonl, byte for byte (so the fallback packer of
conftest.py, used when a run writes no downlink.bin, tests the same thing)."""

from __future__ import annotations

from typing import Any

import pytest

from flight.tmtc.layout import HK, OPS


def of_apid(packets: list[bytes], apid: int) -> list[bytes]:
    return [p for p in packets if int.from_bytes(p[:2], "big") & 0x7FF == apid]


def test_downlink_bin_is_telemetry_jsonl_packed(mission: Any, packer: Any) -> None:
    """HK, and OPS when the run sends it (the figures telemetry.jsonl carries too)."""
    if mission.source != "downlink.bin":
        pytest.skip("this run wrote no downlink.bin: the export tests use the packer")
    packed = packer(mission.telemetry)
    assert mission.of_apid(HK.apid) == of_apid(packed, HK.apid)
    if mission.of_apid(OPS.apid):
        assert mission.of_apid(OPS.apid) == of_apid(packed, OPS.apid)
