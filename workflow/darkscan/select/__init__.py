"""Selection: variables (registered per channel), safe cut expressions, cut flow, histograms."""
