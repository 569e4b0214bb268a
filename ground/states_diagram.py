"""Draw the mission state chart (statechart.yaml) as a Mermaid diagram, without graphviz.

Render it with any Mermaid renderer: paste it into https://mermaid.live, or
``thermine states > states.mmd && npx -y @mermaid-js/mermaid-cli -i states.mmd -o
states.svg`` (npm registry; it fetches a headless Chromium), or a Markdown viewer that
draws ```mermaid blocks (GitHub, GitLab).
"""

from __future__ import annotations

import logging

from transitions.extensions import HierarchicalGraphMachine

from flight.sequencer import leaf_states, load_chart, machine_spec


class _Model:
    """A bare model: the diagram needs the machine's structure, not its behaviour."""


def mermaid() -> str:
    """The state chart as Mermaid ``stateDiagram-v2`` text: guards on the edges, each
    phase's timeout drawn as an edge of its own (``timeout_3600s``), no state painted as
    the active one (a diagram of the chart, not of a run)."""
    chart = load_chart()
    states, trans = machine_spec(chart)
    for t in trans:
        t.pop("after", None)
    for name, leaf in leaf_states(chart).items():
        if leaf.get("on_timeout") == "safe":  # (other timeouts fire a trigger drawn already)
            trans.append({"trigger": f"timeout_{leaf['timeout_s']:g}s", "source": name,
                          "dest": "SAFE", "conditions": []})
    logging.getLogger("transitions").setLevel(logging.ERROR)
    model = _Model()
    HierarchicalGraphMachine(model=model, states=states, transitions=trans, initial="BOOT",
                             graph_engine="mermaid", show_conditions=True,
                             auto_transitions=False, title="thermine mission")
    text: str = model.get_graph().draw(None)  # type: ignore[attr-defined]
    return text.replace("Class BOOT s_active", "Class BOOT s_default")
