"""Stored sequences (the cFS SC / F' CmdSequencer job): files of time-tagged commands and
waits, validated as a whole at load (:mod:`flight.sequences.schema`, with the walk's
checks in :mod:`flight.sequences.checks`) into :mod:`flight.sequences.model`'s types,
and run one at a time, once per cycle, through the one command path
(:mod:`flight.sequences.engine`).
"""

from flight.sequences.engine import SequenceEngine
from flight.sequences.model import Condition, Sequence, SequenceError, Step
from flight.sequences.schema import (
    load_sequence_file,
    parse_sequence,
    parse_sequence_text,
    sequence_from_commands,
)

__all__ = [
    "Condition",
    "Sequence",
    "SequenceEngine",
    "SequenceError",
    "Step",
    "load_sequence_file",
    "parse_sequence",
    "parse_sequence_text",
    "sequence_from_commands",
]
