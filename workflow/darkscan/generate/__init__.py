"""Event generation: processes, chunked sample production and pseudo-data."""
