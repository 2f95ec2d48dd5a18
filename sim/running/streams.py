"""Keyed random streams: a stream is named by what it serves, never by who computes it.

``uniforms(seed, block, key, n)`` is the whole interface. The stream for a key in a block
of replications depends only on (seed, block, key), so results are identical whatever the
number of workers, a replication's draws do not shift when another input is added, and two
scenarios that share keys share common random numbers.
"""

from __future__ import annotations

import hashlib

import numpy as np

BLOCK_SIZE = 1000  # replications per stream block; fixed, so results never depend on it


def stream_id(key: str) -> int:
    """A stable 63-bit integer for a key (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest()) >> 1


def uniforms(seed: int, block: int, key: str, n: int, width: int = 1) -> np.ndarray:
    """``n`` rows of ``width`` uniforms on (0, 1) for ``key`` in replication block ``block``.

    The first rows of a stream never depend on ``n``, so a shorter run is a prefix of a
    longer one with the same seed.
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(block, stream_id(key)))
    u = np.random.Generator(np.random.PCG64(sequence)).random((n, width))
    # random() is on [0, 1); keep ppf away from an exact 0, which maps to -inf or a bound
    np.maximum(u, np.finfo(float).tiny, out=u)
    return u if width > 1 else u[:, 0]
