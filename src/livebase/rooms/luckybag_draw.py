"""The lucky bag's verifiable draw: pure functions, shared by the service, the CLI and
(ported to JavaScript) the verify page. docs/luckybag.md states the same algorithm.

1. ``seed`` = 32 random bytes (``secrets``); ``seed_hash`` = SHA-256(seed), lowercase hex,
   published when the bag starts.
2. ``entrants`` = the eligible user ids, sorted by their UTF-8 bytes (ids are ASCII, so
   this is plain string order); ``entrants_digest`` = SHA-256 of the ids joined by "\\n"
   (UTF-8, no trailing newline), lowercase hex.
3. ``pool`` = entrants. For i = 0, 1, … while fewer than k winners and pool is not empty:
   h = SHA-256(seed || i as 8 bytes big-endian) read as a 256-bit big-endian unsigned
   integer; j = h mod len(pool); the i-th winner is pool[j], removed from pool (the ones
   after it move up by one).

The modulo bias of a 256-bit number over a pool of at most a few million is below 2^-230.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

SEED_BYTES = 32


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def seed_hash(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def sort_entrants(ids: Sequence[str]) -> list[str]:
    return sorted(set(ids), key=lambda s: s.encode("utf-8"))


def entrants_digest(sorted_ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted_ids).encode("utf-8")).hexdigest()


def draw(seed: bytes, sorted_ids: Sequence[str], k: int) -> list[str]:
    """The winners, in the order drawn."""
    pool = list(sorted_ids)
    winners: list[str] = []
    i = 0
    while len(winners) < k and pool:
        h = hashlib.sha256(seed + i.to_bytes(8, "big")).digest()
        j = int.from_bytes(h, "big") % len(pool)
        winners.append(pool.pop(j))
        i += 1
    return winners
