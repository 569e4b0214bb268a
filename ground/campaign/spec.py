"""The campaign YAML: schema, validation, and expansion into a list of runs.

A campaign is a base mission + hardware, a matrix (fault cases x trigger times x seeds,
plus fault-free runs per seed), Monte-Carlo dispersions of plant parameters and sensor
noise (drawn per seed), and pass criteria. Everything is validated at load, so a bad
campaign fails before the first run with the file and key path of the problem::

    name: single-faults
    mission: ../missions/quick.yaml
    hardware: ../hardware/sim.yaml
    seeds: {first: 1, count: 4}          # or a list: [1, 2, 3]
    triggers: [{on_state: EXTRACT_HEAT}, {on_state: EXTRACT_CAPTURE, after_s: 60}]
    faults:
      - {name: heater_open, layer: plant, kind: heater_open_circuit,
         expect: {detect_within_s: 130, end_state: SAFE}}
    dispersions:
      - {param: sample.ice_mass_fraction, dist: uniform, low: 0.8, high: 1.2}
    criteria: {max_violations: 0}

Paths are relative to the campaign file. See docs/campaigns.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from common.schema import load, param, read_yaml
from ground.campaign.dispersions import Dispersion
from ground.harness.faultplan import TriggerConfig

KEEP = ("failures", "all", "none")
NOMINAL = "nominal"


@dataclass(frozen=True)
class ExpectConfig:
    """What a fault case must produce to pass (each unset item is not checked)."""

    detect_within_s: float | None = param(None, 0.0, 1e7, "an FDIR trip at most this long "
                                          "after injection")
    end_state: list[str] = param([], doc="the state(s) the run may end in, e.g. SAFE or "
                                 "[SAFE, IDLE]; empty: any")
    complete: bool | None = param(None, doc="the mission must (true) / must not complete")
    injected: bool = param(True, doc="the trigger must fire (false: a trigger that may "
                           "never come is fine)")


@dataclass(frozen=True)
class FaultCase:
    """One row of the matrix: a fault (layer/kind/...) or a plan file, and its check."""

    name: str = param(doc="row name in the report and the run ids")
    layer: str = param("", doc="plant, device or link (not with plan)")
    kind: str = param("", doc="fault kind, docs/faults.md (not with plan)")
    target: str = param("", doc="device role, device layer")
    params: dict[str, float] = param({}, doc="kind-specific parameters")
    duration_s: float | None = param(None, 0.0, 1e8, "how long it lasts (null: forever)")
    triggers: list[TriggerConfig] = param([], doc="overrides the campaign's triggers")
    plan: str | None = param(None, doc="a fault plan file instead (its own triggers)")
    expect: ExpectConfig = param(ExpectConfig(), doc="pass criteria of this case")


@dataclass(frozen=True)
class Criteria:
    """Campaign-wide pass criteria."""

    max_violations: int = param(0, 0, 10**9, "safety violations (plant truth) allowed per run")
    nominal_must_complete: bool = param(True, doc="fault-free runs must complete the mission")
    nominal_no_trip: bool = param(True, doc="fault-free runs must trip no FDIR monitor")


@dataclass(frozen=True)
class CampaignConfig:
    name: str = param(doc="campaign name (report title, default output directory)")
    mission: str = param(doc="mission YAML, relative to this file")
    hardware: str = param("../hardware/sim.yaml", doc="hardware YAML (sim backend)")
    seeds: list[int] = param([1], doc="seeds; each is one Monte-Carlo draw of the plant")
    dispersion_seed: int = param(0, 0, 2**32 - 1, "seed of the dispersion draws")
    nominal: bool = param(True, doc="also fly each seed without a fault")
    triggers: list[TriggerConfig] = param([TriggerConfig(at_s=0.0)],
                                          doc="default trigger times of the fault cases")
    faults: list[FaultCase] = param([], doc="the fault cases (rows of the matrix)")
    dispersions: list[Dispersion] = param([], doc="Monte-Carlo dispersions")
    criteria: Criteria = param(Criteria(), doc="pass criteria")
    time_limit_s: float = param(300.0, 1.0, 1e6, "wall-time limit of one run")
    keep_telemetry: str = param("failures", choices=KEEP, doc="whose run files to keep")
    aliases: dict[str, Any] = param({}, doc="a place for YAML anchors the cases refer to; "
                                    "not read")


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs: a pure function of this gives its result."""

    run_id: str
    index: int
    seed: int
    fault: str
    trigger: str
    mission: str
    hardware: str
    plan: dict[str, Any] | None
    plan_where: str
    dispersions: dict[str, float | str]
    expect: dict[str, Any]
    criteria: dict[str, Any]
    time_limit_s: float
    keep: str


@dataclass(frozen=True)
class Campaign:
    """A validated campaign: its config with absolute paths, and where it came from."""

    path: Path
    config: CampaignConfig
    runs: list[RunSpec]
    #: sha256 of every input file, to tell whether a resume or rerun sees the same inputs
    inputs_sha256: dict[str, str]

    def resolved(self) -> dict[str, Any]:
        """The campaign as written to ``campaign.yaml`` in the output directory."""
        out = dataclasses.asdict(self.config)
        out["source"] = str(self.path)
        out["inputs_sha256"] = dict(self.inputs_sha256)
        return out


def trigger_label(t: TriggerConfig) -> str:
    """A short name for a trigger: ``EXTRACT_HEAT+60s``, ``t=600s``, ``heater_temp_k>400``."""
    if t.at_s is not None:
        return f"t={t.at_s + t.after_s:g}s"
    if t.on_state is not None:
        base = t.on_state
    else:
        w = t.when
        assert w is not None
        base = f"{w.telemetry}>{w.above:g}" if w.above is not None else \
            f"{w.telemetry}<{w.below:g}"
    return f"{base}+{t.after_s:g}s"


def _seeds(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Accept ``seeds: {first: F, count: N}`` as well as a list."""
    seeds = data.get("seeds")
    if isinstance(seeds, dict):
        extra = set(seeds) - {"first", "count"}
        if extra or not all(isinstance(seeds.get(k), int) for k in ("first", "count")):
            raise ConfigError(f"{where} seeds", "give a list of seeds or {first: F, count: N} "
                              "with integers")
        if not 1 <= seeds["count"] <= 100000 or seeds["first"] < 0:
            raise ConfigError(f"{where} seeds.count", "count in [1, 100000], first >= 0")
        data = {**data, "seeds": list(range(seeds["first"], seeds["first"] + seeds["count"]))}
    return data


def _shorthands(data: dict[str, Any]) -> dict[str, Any]:
    """``expect: {end_state: SAFE}`` means ``[SAFE]``."""
    faults = data.get("faults")
    if isinstance(faults, list):
        for case in faults:
            expect = case.get("expect") if isinstance(case, dict) else None
            if isinstance(expect, dict) and isinstance(expect.get("end_state"), str):
                expect["end_state"] = [expect["end_state"]]
    return data


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+=<>-]+", "_", text)


def load_campaign(path: str | Path) -> Campaign:
    """Read, validate and expand a campaign YAML (or a resolved ``campaign.yaml``).

    Raises:
        ConfigError: naming the file and key path of the first problem, including a
            problem in its mission, hardware or fault plans, and a dispersion that draws a
            value outside its parameter's range.
    """
    from ground.campaign.dispersions import Targets, draw

    path = Path(path)
    where = f"{path}:"
    data = _shorthands(_seeds(read_yaml(path), where))
    data.pop("source", None)
    data.pop("inputs_sha256", None)
    data.pop("code_version", None)  # written by the engine into campaign.yaml
    cfg = load(CampaignConfig, data, where)
    if not cfg.seeds:
        raise ConfigError(f"{where} seeds", "at least one seed")
    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise ConfigError(f"{where} seeds", "seeds repeat")
    base = path.resolve().parent
    mission = (base / cfg.mission).resolve()
    hardware = (base / cfg.hardware).resolve()
    cfg = dataclasses.replace(cfg, mission=str(mission), hardware=str(hardware))
    from ground.harness.run import load_inputs, with_plan

    inputs = load_inputs(mission, hardware)
    if inputs.hardware.backend != "sim":
        raise ConfigError(f"{where} hardware", "campaigns fly SIL: the hardware YAML must "
                          "have backend: sim")
    hashes = {"mission": _sha256(mission), "hardware": _sha256(hardware)}
    if inputs.fdir is not None:
        from flight.fdir.table import resolve_path

        fdir = resolve_path(mission, inputs.mission.fdir)
        assert fdir is not None  # (inputs.fdir was loaded from it)
        hashes["fdir"] = _sha256(Path(fdir))
    targets = Targets.of(inputs)
    for i, d in enumerate(cfg.dispersions):
        targets.check(d, f"{where} dispersions[{i}]")
    cases = _cases(cfg, base, where, hashes)
    cfg = dataclasses.replace(cfg, faults=[
        c if c.plan is None else dataclasses.replace(c, plan=str((base / c.plan).resolve()))
        for c in cfg.faults])
    runs: list[RunSpec] = []
    ids: set[str] = set()
    for seed in cfg.seeds:
        values = draw(cfg.dispersions, targets, cfg.dispersion_seed, seed, where)
        rows: list[tuple[str, str, dict[str, Any] | None, str, ExpectConfig]] = []
        if cfg.nominal:
            rows.append((NOMINAL, "-", None, "", ExpectConfig(injected=False)))
        rows.extend(cases)
        for fault, label, plan, plan_where, expect in rows:
            run_id = _slug(f"{fault}--s{seed}" if fault == NOMINAL else
                           f"{fault}--{label}--s{seed}")
            if run_id in ids:
                raise ConfigError(f"{where} faults", f"two runs would both be {run_id!r}: "
                                  "give the cases different names or triggers")
            ids.add(run_id)
            runs.append(RunSpec(
                run_id=run_id, index=len(runs), seed=seed, fault=fault, trigger=label,
                mission=str(mission), hardware=str(hardware), plan=plan,
                plan_where=plan_where, dispersions=values,
                expect=dataclasses.asdict(expect), criteria=dataclasses.asdict(cfg.criteria),
                time_limit_s=cfg.time_limit_s, keep=cfg.keep_telemetry))
    for _name, _, plan, plan_where, _ in cases:
        assert plan is not None
        with_plan(inputs, plan, plan_where)  # every case validated before anything runs
    return Campaign(path, cfg, runs, hashes)


def _cases(cfg: CampaignConfig, base: Path, where: str, hashes: dict[str, str],
           ) -> list[tuple[str, str, dict[str, Any], str, ExpectConfig]]:
    """Each fault case x each of its triggers -> (name, trigger label, plan, where, expect)."""
    out: list[tuple[str, str, dict[str, Any], str, ExpectConfig]] = []
    names: set[str] = set()
    for i, case in enumerate(cfg.faults):
        at = f"{where} faults[{i}]"
        if case.name in names or case.name == NOMINAL:
            raise ConfigError(f"{at}.name", f"{case.name!r} is taken (names are unique and "
                              f"{NOMINAL!r} is the fault-free run)")
        names.add(case.name)
        if case.plan is not None:
            if case.kind or case.layer or case.triggers:
                raise ConfigError(f"{at}.plan", "a plan file brings its own faults and "
                                  "triggers: give either plan or layer/kind/triggers")
            plan_path = (base / case.plan).resolve()
            hashes[f"plan:{case.name}"] = _sha256(plan_path) if plan_path.exists() else ""
            plan = read_yaml(plan_path)
            out.append((case.name, "plan", plan, str(plan_path), case.expect))
            continue
        if not case.kind or not case.layer:
            raise ConfigError(at, "give layer and kind (or a plan file)")
        for j, trig in enumerate(case.triggers or cfg.triggers):
            fault: dict[str, Any] = {
                "id": case.name, "layer": case.layer, "kind": case.kind,
                "target": case.target, "params": dict(case.params),
                "trigger": {k: v for k, v in dataclasses.asdict(trig).items()
                            if v is not None}}
            if case.duration_s is not None:
                fault["duration_s"] = case.duration_s
            label = "t=0s" if case.kind == "ice_poor_sample" else trigger_label(trig)
            if case.kind == "ice_poor_sample":
                if j:
                    break  # a property of the scoop: one trigger (at_s 0) is all it has
                fault["trigger"] = {"at_s": 0.0}
            src = f"{where} faults[{i}] (trigger {j})"
            out.append((case.name, label, {"faults": [fault]}, src, case.expect))
    return out
