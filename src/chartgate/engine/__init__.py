"""Engine: the session that runs the stages; hands `GateSummary` to the front ends."""
