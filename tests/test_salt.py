"""Where the anonymisation salt comes from: an explicit value, the data dir's file, or a new file."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from schemas.errors import ConfigurationError, PermanentError
from streams.salt import MIN_SALT_BYTES, SALT_BYTES, SALT_FILE, load_or_create_salt, salt_from


def test_created_once_private_and_kept(tmp_path):
    d = tmp_path / "data"  # does not exist yet
    first = load_or_create_salt(d)
    path = d / SALT_FILE
    assert len(first) == SALT_BYTES and path.read_bytes() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_salt(d) == first  # kept across restarts
    assert sorted(os.listdir(d)) == [SALT_FILE]  # no temporary file left behind
    assert load_or_create_salt(tmp_path / "other") != first  # random, not a default


def test_created_under_a_permissive_umask_still_private(tmp_path):
    old = os.umask(0)
    try:
        load_or_create_salt(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / SALT_FILE).stat().st_mode) == 0o600


def test_concurrent_first_starts_agree(tmp_path):
    out: list[bytes] = []
    threads = [threading.Thread(target=lambda: out.append(load_or_create_salt(tmp_path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 1 and (tmp_path / SALT_FILE).read_bytes() == out[0]


@pytest.mark.parametrize("content", [b"", b"x", b"y" * (MIN_SALT_BYTES - 1)])
def test_short_or_empty_file_refused(tmp_path, content):
    (tmp_path / SALT_FILE).write_bytes(content)
    for call in (lambda: load_or_create_salt(tmp_path), lambda: salt_from(None, tmp_path, create=True),
                 lambda: salt_from(None, tmp_path, create=False)):
        with pytest.raises(ConfigurationError, match="at least 16") as info:
            call()
        assert isinstance(info.value, PermanentError) and not info.value.retriable
    assert (tmp_path / SALT_FILE).read_bytes() == content  # never overwritten


def test_a_directory_in_place_of_the_file_is_refused(tmp_path):
    (tmp_path / SALT_FILE).mkdir()
    with pytest.raises(ConfigurationError, match="cannot read"):
        salt_from(None, tmp_path, create=True)


def test_policy_explicit_value_wins(tmp_path):
    stored = load_or_create_salt(tmp_path)
    explicit = "an explicit secret of 32 chars.."
    assert salt_from(explicit, tmp_path, create=False) == explicit.encode()
    assert salt_from(explicit, None, create=False) == explicit.encode()
    assert salt_from(None, tmp_path, create=False) == stored
    assert salt_from("", tmp_path, create=False) == stored  # an empty variable is no value


@pytest.mark.parametrize("value", ["short", "change-me-in-production", "truevoice-default-salt-change-me"])
def test_weak_or_published_explicit_values_refused(tmp_path, value):
    with pytest.raises(ConfigurationError, match="TRUEVOICE_ANON_SALT"):
        salt_from(value, tmp_path, create=True)
    assert not (tmp_path / SALT_FILE).exists()


def test_up_creates_the_worker_refuses(tmp_path):
    with pytest.raises(ConfigurationError) as info:
        salt_from(None, tmp_path, create=False)
    msg = str(info.value)
    assert msg.startswith("worker needs an anonymisation salt: set TRUEVOICE_ANON_SALT or put one in ")
    assert str(tmp_path / SALT_FILE) in msg and msg.endswith("(up creates it)")
    assert not (tmp_path / SALT_FILE).exists()  # the worker never invents one
    with pytest.raises(ConfigurationError, match="worker needs an anonymisation salt"):
        salt_from(None, None, create=False)
    created = salt_from(None, tmp_path, create=True)
    assert len(created) == SALT_BYTES
    assert salt_from(None, tmp_path, create=False) == created  # a worker on up's data dir agrees
