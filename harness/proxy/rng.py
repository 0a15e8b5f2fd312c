"""Seeded randomness that reproduces: one independent stream per (proxy, toxic, connection, direction).

Toxiproxy accepts ``-seed`` but its toxics draw from the global RNG, so nothing reproduces.
Here each toxic on each link gets its own ``random.Random`` derived from the server seed and
stable names, so the n-th connection of a proxy draws the same toxicity and jitter sequence
in every run with the same seed, whatever the interleaving of other connections.
"""

from __future__ import annotations

import os
import random


class SeedSource:
    """Derives independent ``random.Random`` streams from one server seed."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(8), "big")

    def stream(self, *parts: object) -> random.Random:
        # String seeds are hashed with SHA-512 by random.Random: stable across processes.
        return random.Random("/".join([str(self.seed), *map(str, parts)]))
