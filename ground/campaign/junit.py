"""junit.xml for CI (Jenkins, GitLab): one testcase per campaign run.

Layout: ``<testsuites>`` holding one ``<testsuite name=<campaign> tests failures errors
skipped time>``; each run is ``<testcase classname="<campaign>.<fault>" name="<run_id>"
time="<wall_time_s>">``. A failed run carries ``<failure message="first reason">`` with all
reasons, an errored or timed-out run ``<error message=...>`` with its traceback, and every
non-pass run a ``<system-out>`` with the rerun command.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from ground.campaign.report import Summary, finite, outcome_of

# Characters XML 1.0 does not allow (ElementTree writes them, then cannot parse them back).
_BAD_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: Any) -> str:
    return _BAD_XML.sub("\ufffd", str(text))


def _secs(x: Any) -> str:
    v = finite(x)
    return f"{max(v, 0.0):.3f}" if v is not None else "0.000"


def junit_xml(s: Summary) -> bytes:
    """The bytes of junit.xml (UTF-8, with an XML declaration) for the summarized campaign."""
    name = _x(s.meta.get("name", "campaign"))
    counts = s.counts
    wall = finite(s.meta.get("wall_time_s"))
    if wall is None:
        wall = sum(finite(r.get("wall_time_s")) or 0.0 for r in s.records)
    totals = {"tests": str(len(s.records)), "failures": str(counts["fail"]),
              "errors": str(counts["error"] + counts["timeout"]), "skipped": "0",
              "time": _secs(wall)}
    root = ET.Element("testsuites", {"name": name, **totals})
    suite = ET.SubElement(root, "testsuite", {"name": name, **totals})
    if s.meta.get("created_utc"):
        suite.set("timestamp", _x(str(s.meta["created_utc"]).removesuffix("Z")[:19]))
    props = ET.SubElement(suite, "properties")
    for key in ("campaign_file", "mission", "hardware", "executor", "workers", "planned_runs"):
        if key in s.meta:
            ET.SubElement(props, "property", {"name": key, "value": _x(s.meta[key])})
    issues = {id(i.record): i for i in s.issues}
    for r in s.records:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{name}.{_x(r.get('fault'))}", "name": _x(r.get("run_id")),
            "time": _secs(r.get("wall_time_s"))})
        o = outcome_of(r)
        if o == "pass":
            continue
        issue = issues[id(r)]
        reasons = [_x(x) for x in r.get("reasons") or []]
        if o == "fail":
            el = ET.SubElement(case, "failure", {"message": reasons[0] if reasons else "failed",
                                                 "type": "fail"})
            el.text = "\n".join(reasons + ["", *map(_x, issue.observed)])
        else:
            tb = _x(issue.traceback or r.get("error") or f"run ended with outcome {o}")
            last = tb.strip().splitlines()[-1] if tb.strip() else o
            el = ET.SubElement(case, "error", {"message": reasons[0] if reasons else last,
                                               "type": o})
            el.text = tb
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join([f"rerun: {_x(issue.rerun)}"]
                             + ([f"run_dir: {_x(issue.run_dir)}"] if issue.run_dir else []))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
