"""Draw the mission state chart (statechart.yaml) as a Mermaid diagram, without graphviz."""

from __future__ import annotations

import logging

from transitions.extensions import HierarchicalGraphMachine

from flight.sequencer import load_chart, machine_spec


class _Model:
    """A bare model: the diagram needs the machine's structure, not its behaviour."""


def mermaid() -> str:
    """The state chart as Mermaid ``stateDiagram-v2`` text (guards shown on the edges)."""
    states, trans = machine_spec(load_chart())
    for t in trans:
        t.pop("after", None)
    logging.getLogger("transitions").setLevel(logging.ERROR)
    model = _Model()
    HierarchicalGraphMachine(model=model, states=states, transitions=trans, initial="BOOT",
                             graph_engine="mermaid", show_conditions=True,
                             auto_transitions=False, title="thermine mission")
    return model.get_graph().draw(None)  # type: ignore[attr-defined]
