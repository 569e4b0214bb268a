"""Performance benchmarks (``thermine bench``): the plant and the mission, the serial link,
campaigns."""
