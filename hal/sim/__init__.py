"""Simulated backends: devices over the physics plant in ``sims`` (and later the board emulator)."""
