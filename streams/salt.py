"""Where the anonymisation salt comes from (the policy; ``scoring.privacy`` never looks).

The salt keys the hashes that replace author ids, handles and personal names
(``scoring.privacy.Anonymiser``). Anyone who knows it can hash a list of common names or handles
and reverse the tokens, so there is no built-in default: a process gets it, in this order, from

1. an explicit value, the caller's ``TRUEVOICE_ANON_SALT`` (UTF-8, at least 16 bytes, not one of
   the demo values that were once published as defaults);
2. the file ``<data_dir>/anon.salt`` (raw bytes, at least 16);
3. only when ``create=True`` (the embedded ``up``): a new file of 32 random bytes from
   :mod:`secrets`, mode 0600, kept from then on so tokens stay stable across restarts.

A production ``worker`` passes ``create=False``: with neither a value nor a file it refuses to
start (:class:`~schemas.errors.ConfigurationError`) rather than invent a salt that the other
replicas do not share (their tokens would disagree).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from schemas.errors import ConfigurationError

__all__ = ["SALT_FILE", "SALT_BYTES", "MIN_SALT_BYTES", "load_or_create_salt", "read_salt", "salt_from"]

SALT_FILE = "anon.salt"
SALT_BYTES = 32
MIN_SALT_BYTES = 16
# defaults that shipped in the code or the compose file: public, hence no secret at all
_PUBLISHED = frozenset({b"truevoice-default-salt-change-me", b"change-me-in-production", b"change-me"})


def _check(salt: bytes, where: str) -> bytes:
    if len(salt) < MIN_SALT_BYTES:
        what = "is empty" if not salt else f"holds {len(salt)} bytes"
        raise ConfigurationError(f"the anonymisation salt in {where} {what}; it needs at least "
                                 f"{MIN_SALT_BYTES} (delete the file to let `up` create one, or set "
                                 "TRUEVOICE_ANON_SALT)")
    if salt.strip() in _PUBLISHED:
        raise ConfigurationError(f"the anonymisation salt in {where} is a published demo value; "
                                 "set a secret one")
    return salt


def read_salt(path: Path) -> bytes:
    """The salt stored at ``path`` (raw bytes, as written); ConfigurationError when too short."""
    try:
        salt = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the anonymisation salt {path}: {exc}") from exc
    return _check(salt, str(path))


def load_or_create_salt(data_dir: Path) -> bytes:
    """``data_dir/anon.salt``, created with 32 random bytes (mode 0600) when it does not exist."""
    data_dir = Path(data_dir)
    path = data_dir / SALT_FILE
    if path.exists():
        return read_salt(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_bytes(SALT_BYTES)
    # written to a private temporary file, then linked into place: a crash never leaves a
    # half-written salt, and if another process created the file meanwhile theirs is kept
    tmp = data_dir / f".{SALT_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    _write_private(tmp, salt)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return read_salt(path)
    except OSError:  # a file system without hard links: create the file exclusively
        try:
            _write_private(path, salt)
        except FileExistsError:
            return read_salt(path)
    finally:
        tmp.unlink(missing_ok=True)
    return salt


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def salt_from(value: str | None, data_dir: Path | None, *, create: bool) -> bytes:
    """The salt by the policy above. ``value`` is the caller's ``TRUEVOICE_ANON_SALT`` (None or
    empty: not set); ``create`` lets the embedded ``up`` generate the file on first start."""
    if value:
        return _check(value.encode("utf-8"), "TRUEVOICE_ANON_SALT")
    if data_dir is not None:
        path = Path(data_dir) / SALT_FILE
        if create:
            return load_or_create_salt(Path(data_dir))
        if path.exists():
            return read_salt(path)
    where = f"{Path(data_dir) / SALT_FILE}" if data_dir is not None else "<data_dir>/anon.salt"
    raise ConfigurationError("worker needs an anonymisation salt: set TRUEVOICE_ANON_SALT or put one in "
                             f"{where} (up creates it)")
