"""The flight software: composition root, executive, sequencer, subsystems, FDIR, commands,
telemetry and the command line. It sees hardware only through ``hal`` ports and never
imports ``sims``.
"""
