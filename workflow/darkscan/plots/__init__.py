"""Plots for people: mplhep style, labelled axes with units, legends."""
