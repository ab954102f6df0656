"""Payload encryption, so the Temporal server, its database and its UI never hold personal data in clear.

Every payload our clients and workers send to Temporal (workflow and activity inputs and results, signals,
queries, updates, memos) is sealed with AES-256-GCM before it leaves the process. The payload's metadata
names the key that sealed it, so keys can rotate: new payloads use the current key, and payloads sealed with
an older key stay readable for as long as that key is in the keyring. Payloads written before encryption was
switched on carry no `binary/encrypted` encoding and pass through unchanged.

Keys are configured as one text, `"k2:BASE64,k1:BASE64"`: the first key is the current one.
`python -m security.codec new-key` prints a new entry. Rotate in two deploys, because every process must be
able to open what any other seals: first add the new key behind the current one everywhere, then move it to
the front. Drop an old key only once no history that Temporal still retains was sealed with it.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

ENCODING = b"binary/encrypted"  # the metadata the TypeScript, Go and Python samples use, so tools agree
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce, random per payload: rotate keys long before 2^32 payloads per key (NIST)
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class PayloadEncryptionError(ValueError):
    """A payload or the key configuration cannot be used: names the key id, never the key itself."""


class EncryptionCodec(PayloadCodec):
    """Seals payloads with the current key; opens them with whichever key of the keyring sealed them."""

    def __init__(self, keyring: Mapping[str, bytes], current_key_id: str) -> None:
        super().__init__()
        if current_key_id not in keyring:
            raise PayloadEncryptionError(f"the current key {current_key_id!r} is not in the keyring")
        for key_id, key in keyring.items():
            if not _KEY_ID.fullmatch(key_id):
                raise PayloadEncryptionError(f"key id {key_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
            if len(key) != KEY_BYTES:
                raise PayloadEncryptionError(f"key {key_id!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES}")
        self.current_key_id = current_key_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.items()}

    @classmethod
    def from_config(cls, text: str) -> EncryptionCodec:
        """The codec for a keyring written as `"k2:BASE64,k1:BASE64"`; the first key seals new payloads."""
        keyring = parse_keyring(text)
        return cls(keyring, current_key_id=next(iter(keyring)))

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return self.seal_all(payloads)

    def seal_all(self, payloads: Iterable[Payload]) -> list[Payload]:
        """`encode` for code on a thread: intake seals a case's input inside its database transaction."""
        return [self._seal(payload) for payload in payloads]

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self._open(payload) if payload.metadata.get("encoding") == ENCODING else payload
                for payload in payloads]

    def _seal(self, payload: Payload) -> Payload:
        """The whole payload, metadata included, is sealed: even its type name stays out of the history."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_key_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: self.current_key_id.encode()},
                       data=nonce + sealed)

    def _open(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadEncryptionError(f"payload sealed with key {key_id!r}, which is not in the keyring "
                                  f"({', '.join(self._ciphers)}); was a retired key removed too early?")
        try:
            opened = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
            raise PayloadEncryptionError(f"payload sealed with key {key_id!r} failed authentication: "
                                  "it was altered, or the key under that id changed") from None
        return Payload.FromString(opened)


def encrypting(converter: DataConverter, codec: PayloadCodec) -> DataConverter:
    """`converter` with every payload sealed by `codec`, error messages and stack traces included: by default
    Temporal stores those in clear, and "could not text +358..." would put a phone number in the history."""
    return dataclasses.replace(converter, payload_codec=codec,
                               failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


def parse_keyring(text: str) -> dict[str, bytes]:
    """`"k2:BASE64,k1:BASE64"` as {key id: key}, in the given order (the first is current)."""
    keyring: dict[str, bytes] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key_id, separator, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not separator or not key_id:
            raise PayloadEncryptionError("each payload key must be written as '<key id>:<base64 key>'")
        if key_id in keyring:
            raise PayloadEncryptionError(f"key id {key_id!r} appears twice in the payload keys")
        try:
            keyring[key_id] = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            raise PayloadEncryptionError(f"key {key_id!r} is not valid base64") from None
    if not keyring:
        raise PayloadEncryptionError("no payload keys configured")
    return keyring


def new_key_entry(now: datetime | None = None) -> str:
    """A fresh random key as one keyring entry, `k<UTC timestamp>:<base64>`; the id sorts by age."""
    key_id = "k" + (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode()}"


def load_or_create_dev_keyring(path: Path) -> str:
    """The development keyring text kept at `path`, created (owner-only, 0600) on first use.

    For `make run` only: a key that lives beside the dev server's database on one machine. Production
    configures its keys; processes on different machines must share them, or they cannot read each other's
    payloads. Creation is atomic (link of a finished file), so the worker and the API starting together agree.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(new_key_entry() + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won the race; its key is the one
        finally:
            draft.unlink()
    text = path.read_text().strip()
    parse_keyring(text)  # fail here, naming the file's problem, rather than at the first payload
    return text


def main(argv: list[str]) -> int:
    if argv != ["new-key"]:
        print("usage: python -m security.codec new-key   (prints '<key id>:<base64 key>' for PAYLOAD_KEYS; "
              "see this module's docstring for rotating)", file=sys.stderr)
        return 2
    print(new_key_entry())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
