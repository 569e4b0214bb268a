"""The end-of-run safing: every actuator off, one more cycle, the readings checked."""

from __future__ import annotations

from flight.safing import check_readback, safe_the_payload

SAFE = {"bus_power_w": 0.02, "valve_open": False, "stack_current_a": 0.0}


def test_confirmed_when_every_write_was_acknowledged_and_the_readings_prove_it():
    r = check_readback([], SAFE)
    assert (r.state, r.commanded, r.confirmed, r.problems) == ("safe", True, True, [])
    assert "confirmed (bus 0.02 W, valve closed, stack 0.000 A)" in r.line()


def test_a_load_still_drawing_is_unconfirmed_and_named():
    r = check_readback([], {**SAFE, "bus_power_w": 25.3})  # e.g. a heater relay welded
    assert r.state == "unconfirmed" and not r.confirmed
    assert r.problems == ["bus_power_w = 25.3, expected bus draw below 1 W (no heater, "
                          "cryocooler or stack powered)"]
    assert r.line().startswith("every actuator commanded off, NOT confirmed")


def test_a_dead_link_is_an_unknown_state_never_a_safe_one():
    calls: list[str] = []

    def settle() -> None:
        calls.append("settle")
        raise OSError("port gone")

    r = safe_the_payload(lambda: ["heater_power_w", "valve_open"], settle,
                         lambda: dict.fromkeys(SAFE))
    assert calls == ["settle"]
    assert r.state == "unknown" and r.failed_writes == ["heater_power_w", "valve_open"]
    assert r.problems[0] == "the last cycle failed: OSError: port gone"
    assert "bus_power_w unreadable" in r.problems
    assert "payload state UNKNOWN" in r.line()


def test_readings_that_prove_it_do_not_hide_a_failed_cycle():
    def settle() -> None:
        raise RuntimeError("TIME_SYNC refused")

    r = safe_the_payload(lambda: [], settle, lambda: SAFE)
    assert r.commanded and not r.confirmed and r.state == "unconfirmed"
