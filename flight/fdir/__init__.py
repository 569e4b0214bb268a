"""FDIR: the table (monitors -> responses, validated at load), the monitor kinds, the
responses and the engine the cycle runs."""
