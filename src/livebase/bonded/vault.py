"""Identity numbers at rest: AES-256-GCM with a key id (keys rotate), and a keyed hash
(HMAC-SHA256) for look-ups, so the same number can be found (quota, payer check) without
decrypting every row.

Keys come from ``LIVEBASE_BONDED_ID_KEYS``: ``kid:base64key[,kid:base64key...]``, the
first encrypts, all decrypt (rotation: put a new key first, re-encrypt with
``IdVault.reencrypt`` at leisure, then drop the old one). Unset, one key ``k0`` is derived
from ``LIVEBASE_SECRET_KEY`` — a fresh install works, and neither secret reveals the other.
The look-up hash key (``LIVEBASE_BONDED_HASH_KEY``, or derived the same way) never rotates:
rotating it would split one person's yearly quota in two.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# A 96-bit nonce per encryption, as NIST SP 800-38D recommends for GCM.
NONCE_BYTES = 12
KEY_BYTES = 32


class VaultError(RuntimeError):
    """A key setting that cannot be used, or a ciphertext no key opens."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes  # nonce || ciphertext+tag


def _derive(secret: str, label: str) -> bytes:
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


def parse_keys(setting: str) -> list[tuple[str, bytes]]:
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in setting.split(",")):
        if not part:
            continue
        kid, sep, b64 = part.partition(":")
        if not sep or not kid or len(kid) > 16:
            raise VaultError("LIVEBASE_BONDED_ID_KEYS: each key is kid:base64key (kid ≤ 16).")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError:
            raise VaultError(f"LIVEBASE_BONDED_ID_KEYS: key {kid} is not base64.") from None
        if len(key) != KEY_BYTES:
            raise VaultError(f"LIVEBASE_BONDED_ID_KEYS: key {kid} is not 32 bytes.")
        keys.append((kid, key))
    return keys


class IdVault:
    def __init__(self, keys: list[tuple[str, bytes]], hash_key: bytes) -> None:
        if not keys:
            raise VaultError("no identity encryption key")
        self._current = keys[0][0]
        self._keys = {kid: AESGCM(key) for kid, key in keys}
        self._hash_key = hash_key

    @classmethod
    def from_settings(cls, id_keys: str, hash_key: str, secret_key: str) -> IdVault:
        keys = parse_keys(id_keys) or [("k0", _derive(secret_key, "livebase:bonded:id-key"))]
        hk = hash_key.encode() if hash_key else _derive(secret_key, "livebase:bonded:id-hash")
        return cls(keys, hk)

    @property
    def current_key_id(self) -> str:
        return self._current

    def seal(self, plaintext: str, *, context: str) -> Sealed:
        """Encrypt; ``context`` (the row's owner) is the associated data, so a ciphertext
        copied onto another user's row does not open there."""
        nonce = os.urandom(NONCE_BYTES)
        ct = self._keys[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        return Sealed(self._current, nonce + ct)

    def open(self, sealed: Sealed, *, context: str) -> str:
        aead = self._keys.get(sealed.key_id)
        if aead is None:
            raise VaultError(f"no key {sealed.key_id} to open this identity")
        nonce, ct = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        return aead.decrypt(nonce, ct, context.encode()).decode()

    def reencrypt(self, sealed: Sealed, *, context: str) -> Sealed:
        if sealed.key_id == self._current:
            return sealed
        return self.seal(self.open(sealed, context=context), context=context)

    def lookup_hash(self, value: str) -> str:
        """Hex HMAC-SHA256 of the normalised number: equal numbers, equal hashes."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()
