"""Seeds derived from the global seed and a stable hash of names (README.md, Determinism)."""

from __future__ import annotations

import hashlib

import numpy as np


def seed_for(global_seed: int, *names: object) -> int:
    """Return a 63-bit seed from ``global_seed`` and the names, e.g. (channel, sample, chunk).

    The hash is SHA-256 of the joined names, so it is stable across Python processes and
    platforms (unlike ``hash()``), and does not depend on how many jobs run in parallel.
    """
    text = "/".join([str(int(global_seed)), *map(str, names)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def rng_for(global_seed: int, *names: object) -> np.random.Generator:
    """A ``numpy.random.Generator`` seeded with :func:`seed_for`."""
    return np.random.default_rng(seed_for(global_seed, *names))
