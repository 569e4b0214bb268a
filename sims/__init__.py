"""Physics only: the simulated plant of the thermal-mining payload.

Nothing here imports ``hal`` or ``flight``; nothing here does I/O, logging or reads the
wall clock. Everything is deterministic and stepped by ``dt``.
"""
