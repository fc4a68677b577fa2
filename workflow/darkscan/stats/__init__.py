"""Statistics: signal interpolation, pyhf models, the mass scan, look-elsewhere."""
