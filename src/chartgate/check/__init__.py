"""Check: policies, what they receive, waivers, baselines, cached results; hands `Result` on."""
