"""Fault-injection campaigns: many seeded SIL runs in parallel, with a report."""
