"""darkscan: reproducible dark-sector searches at e+e- colliders."""

__version__ = "0.1.0"
