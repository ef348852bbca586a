"""API keys: who may call the API, for which tenant.

A key reads ``tv_<id>_<secret>``: ``id`` (12 hex digits) finds the record, ``secret`` (32 random
bytes, URL-safe base64) proves it. Only the SHA-256 of the whole key is stored — the secret is
random, so a plain hash cannot be reversed by guessing and needs no slow KDF — and the check is
``hmac.compare_digest``, in constant time.

The store is ONE small JSON file (``<data dir>/api_keys.json`` by default), not a ClickHouse table
or a RocksDB column: embedded ClickHouse and RocksDB each allow one process per data path, while
both the running worker and the ``truevoice keys`` command must reach the keys. Writers take an
exclusive ``flock`` on ``api_keys.json.lock``, write a private temporary file (mode 0600) and
rename it over the old one, so a reader sees the old file or the new one, never half of one. A
serving process re-reads the file when its identity (inode, size, mtime) changes, so a revoked
key stops working on its next request. Production with several workers shares the one file: mount
it from a shared volume or a secret on every worker (``TRUEVOICE_API_KEYS_FILE``) and run
``truevoice keys`` against that file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from schemas.errors import ConfigurationError

__all__ = ["KEYS_FILE", "TENANT_RE", "DEFAULT_TENANT", "Principal", "KeyRecord", "NewKey", "KeyStore",
           "KeyFileError", "check_tenant"]

KEYS_FILE = "api_keys.json"
DEFAULT_TENANT = "default"
# a tenant names a ClickHouse database of its own (tables.clickhouse.tenants): a short, plain name
TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
_KEY_RE = re.compile(r"^tv_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_FORMAT = 1


class KeyFileError(ConfigurationError):
    """The key file cannot be read or written, or does not hold what this module writes."""


def check_tenant(tenant: str) -> str:
    if not isinstance(tenant, str) or not TENANT_RE.match(tenant):
        raise ValueError(f"invalid tenant {tenant!r}: 1-40 characters, lower-case letters, digits and _, "
                         "starting with a letter or digit")
    return tenant


@dataclass(frozen=True)
class Principal:
    """Who made a request: the key's tenant, whether it is an admin key (sees every tenant), its id."""

    tenant: str
    admin: bool
    key_id: str


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    tenant: str
    admin: bool
    name: str
    sha256: str
    created_at: float
    revoked_at: float | None = None
    expires_at: float | None = None  # temporary keys (``KeyStore.temporary``)

    def active(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def public(self) -> dict:
        """What ``keys list`` shows: everything but the hash."""
        return {k: v for k, v in asdict(self).items() if k != "sha256"}


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once, stored nowhere
    record: KeyRecord


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """The key file at ``path``: create, list, revoke (command line) and authenticate (server)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None
        self._records: dict[str, KeyRecord] = {}

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> "KeyStore":
        return cls(Path(data_dir) / KEYS_FILE)

    # -- reading ----------------------------------------------------------------------------------
    def _read(self) -> dict[str, KeyRecord]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise KeyFileError(f"cannot read the key file {self.path}: {exc}") from exc
        try:
            doc = json.loads(raw)
            if doc.get("format") != _FORMAT:
                raise ValueError(f"format {doc.get('format')!r}, expected {_FORMAT}")
            return {kid: KeyRecord(**rec) for kid, rec in doc["keys"].items()}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise KeyFileError(f"the key file {self.path} is damaged ({exc}); restore it or move it away "
                               "and create new keys") from exc

    def records(self) -> list[KeyRecord]:
        return sorted(self._read().values(), key=lambda r: r.created_at)

    def _current(self) -> dict[str, KeyRecord]:
        """The records as of the file now, re-read only when the file was replaced or changed."""
        try:
            st = self.path.stat()
            seen = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            seen = None
        if seen != self._seen or seen is None:
            records = self._read() if seen is not None else {}
            self._records, self._seen = records, seen
        return self._records

    def authenticate(self, key: str) -> Principal | None:
        """The principal of an active key; None for a malformed, unknown, revoked or expired one.

        A damaged key file fails closed (KeyFileError): no key is accepted until it is fixed."""
        match = _KEY_RE.match(key) if isinstance(key, str) else None
        if match is None:
            return None
        record = self._current().get(match.group(1))
        if record is None or not hmac.compare_digest(record.sha256, _digest(key)):
            return None
        if not record.active(time.time()):
            return None
        return Principal(tenant=record.tenant, admin=record.admin, key_id=record.key_id)

    # -- writing ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, KeyRecord]]:
        """Read-modify-write under an exclusive lock; the dict yielded is written back atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            records = self._read()
            yield records
            now = time.time()
            # temporary keys that expired are dropped: the `sql` command leaves one behind if killed
            keep = {k: r for k, r in records.items() if r.expires_at is None or r.expires_at > now}
            self._write(keep)
        finally:
            os.close(fd)  # releases the lock

    def _write(self, records: dict[str, KeyRecord]) -> None:
        doc = {"format": _FORMAT, "keys": {k: asdict(r) for k, r in records.items()}}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            os.write(fd, json.dumps(doc, indent=1, sort_keys=True).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)

    def create(self, tenant: str, *, admin: bool = False, name: str = "",
               expires_in: float | None = None) -> NewKey:
        check_tenant(tenant)
        with self._locked() as records:
            return _add(records, tenant, admin, name, expires_in)

    def create_first_admin(self, name: str) -> NewKey | None:
        """An admin key of the default tenant if the file holds no lasting key yet (``up``'s first
        start); None when keys were made before (they are never shown again)."""
        with self._locked() as records:
            if any(r.expires_at is None for r in records.values()):
                return None
            return _add(records, DEFAULT_TENANT, True, name, None)

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke ``key_id`` (kept in the file, marked revoked); KeyError when there is no such key."""
        with self._locked() as records:
            record = records[key_id]
            if record.revoked_at is None:
                record = records[key_id] = KeyRecord(**{**asdict(record), "revoked_at": time.time()})
        return record

    def delete(self, key_id: str) -> None:
        with self._locked() as records:
            records.pop(key_id, None)

    @contextlib.contextmanager
    def temporary(self, tenant: str, *, admin: bool, name: str, seconds: float = 3600) -> Iterator[str]:
        """A key that exists while the block runs (deleted after; expired after ``seconds`` if the
        process dies first), so a local command can call the API without a key kept on disk."""
        new = self.create(tenant, admin=admin, name=name, expires_in=seconds)
        try:
            yield new.key
        finally:
            self.delete(new.record.key_id)


def _add(records: dict[str, KeyRecord], tenant: str, admin: bool, name: str, expires_in: float | None) -> NewKey:
    key_id = secrets.token_hex(6)
    while key_id in records:
        key_id = secrets.token_hex(6)
    key = f"tv_{key_id}_{secrets.token_urlsafe(32)}"
    now = time.time()
    records[key_id] = KeyRecord(key_id=key_id, tenant=tenant, admin=admin, name=name, sha256=_digest(key),
                                created_at=now, expires_at=now + expires_in if expires_in else None)
    return NewKey(key, records[key_id])
