"""``truevoice keys create|list|revoke``: the API keys of the key file (see ``streams.keystore``).

The command edits the file directly, under its lock; a running worker picks the change up on the
next request, so a revoked key stops working at once and no restart is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Callable

from streams.keystore import DEFAULT_TENANT, KeyFileError, KeyStore


def add_keys_command(sub: argparse._SubParsersAction,
                     common: Callable[[argparse.ArgumentParser], None]) -> None:
    """``keys create|list|revoke``; ``common`` adds the options every command shares (--data-dir)."""
    p = sub.add_parser("keys", help="create, list or revoke API keys",
                       description="API keys of the key file (<data dir>/api_keys.json, or TRUEVOICE_API_KEYS_FILE). "
                                   "Only a SHA-256 of each key is stored; a new key is printed once.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    c = actions.add_parser("create", help="create a key and print it (once)")
    c.add_argument("--tenant", default=DEFAULT_TENANT, help=f"the tenant it belongs to (default {DEFAULT_TENANT})")
    c.add_argument("--admin", action="store_true", help="an admin key: sees every tenant")
    c.add_argument("--name", default="", help="what the key is for (shown by `keys list`)")
    common(c)
    c.set_defaults(func=cmd_keys_create)

    ls = actions.add_parser("list", help="list the keys (never the keys themselves)")
    ls.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    common(ls)
    ls.set_defaults(func=cmd_keys_list)

    r = actions.add_parser("revoke", help="revoke a key by its id (takes effect on the next request)")
    r.add_argument("key_id", metavar="ID", help="the id shown by `keys list` (the part after tv_)")
    common(r)
    r.set_defaults(func=cmd_keys_revoke)


def _store(args: argparse.Namespace) -> KeyStore:
    from streams.cli import _settings

    return KeyStore(_settings(args).resolved_api_keys_file)


def cmd_keys_create(args: argparse.Namespace) -> int:
    try:
        new = _store(args).create(args.tenant, admin=args.admin, name=args.name)
    except (ValueError, KeyFileError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    kind = "admin key (every tenant)" if args.admin else f"key of tenant {args.tenant}"
    print(f"created {kind}, id {new.record.key_id}; it is shown only now:", file=sys.stderr)
    print(new.key)
    return 0


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if t else ""


def cmd_keys_list(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    try:
        records = _store(args).records()
    except KeyFileError as exc:
        raise SystemExit(f"error: {exc}") from exc
    if args.json:
        for r in records:
            print(json.dumps(r.public()))
        return 0
    rows = [[r.key_id, r.tenant, "yes" if r.admin else "", r.name, _when(r.created_at),
             "revoked " + _when(r.revoked_at) if r.revoked_at else ("temporary" if r.expires_at else "active")]
            for r in records]
    print(tabulate(rows, headers=["id", "tenant", "admin", "name", "created", "status"], tablefmt="psql"))
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    try:
        record = _store(args).revoke(args.key_id)
    except KeyError:
        raise SystemExit(f"error: no key with id {args.key_id!r}; `truevoice keys list` shows the ids") from None
    except KeyFileError as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(f"revoked {record.key_id} (tenant {record.tenant}{', admin' if record.admin else ''})")
    return 0
