"""Systematic uncertainties: named sources aggregated into one table per channel."""
