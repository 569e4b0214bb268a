"""Exports of the dictionary for the ground tools: XTCE 1.2 for Yamcs
(:mod:`ground.export.xtce`, made with yamcs-pymdb), an OpenC3 COSMOS target
(:mod:`ground.export.cosmos`) and one JSON document (:mod:`ground.export.json_dict`), all
from the same packet model (:mod:`ground.export.model`), the CCSDS layouts of
:mod:`flight.tmtc.layout`. ``thermine dictionary export`` (:mod:`ground.export.cli`)
writes them.
"""
