"""The run harness: fault plans and their injectors (plant, device, link), the safety
oracles on plant truth, and the summary's truth part."""
