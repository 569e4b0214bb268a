"""Everything that runs on the ground or the test bench and never flies: the CLI, the
run harness (fault plans, injectors, oracles, the summary's truth part), campaigns, the
board emulator (ground support equipment), checkout, plots, the state diagram and the
performance benchmarks."""
