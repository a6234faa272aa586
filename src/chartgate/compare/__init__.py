"""Compare: golden kind summaries; hands the golden drift (GOLD-001) to report."""
