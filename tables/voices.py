"""Where the voice tracker keeps author state (``scoring.voices.VoiceStore``): bytes to bytes.

* ``MemoryVoiceStore``: a dict (``truevoice score FILE``, tests).
* ``RocksVoiceStore``: RocksDB through rocksdict, in a folder of its own (``<data dir>/voices``,
  not ``<data dir>/tables``, which ``up`` deletes on start). Written by the score stage only,
  outside Faust (which allows table writes only inside stream iteration), so it has no Kafka
  changelog: it survives a restart on the same disk, and ``up`` also rebuilds the recent part
  from ClickHouse (see README "Author state and coordinated campaigns").
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator


class MemoryVoiceStore:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        self.data[key] = value

    def delete(self, key: bytes) -> None:
        self.data.pop(key, None)

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        get = self.data.get
        return [get(k) for k in keys]

    def put_many(self, items: dict[bytes, bytes]) -> None:
        self.data.update(items)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(list(self.data.items()))  # a snapshot: the sweep may write while it iterates

    def __len__(self) -> int:
        return len(self.data)

    def empty(self) -> bool:
        return not self.data

    def close(self) -> None:
        pass


class RocksVoiceStore:
    def __init__(self, path: Path | str) -> None:
        from rocksdict import Options, Rdict

        Path(path).mkdir(parents=True, exist_ok=True)
        self.path = Path(path)
        self.db = Rdict(str(path), Options(raw_mode=True))

    def get(self, key: bytes) -> bytes | None:
        return self.db.get(key)

    def put(self, key: bytes, value: bytes) -> None:
        self.db[key] = value

    def delete(self, key: bytes) -> None:
        self.db.delete(key)

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        return self.db.get(keys)  # one multi-get

    def put_many(self, items: dict[bytes, bytes]) -> None:
        from rocksdict import WriteBatch

        batch = WriteBatch(raw_mode=True)
        for key, value in items.items():
            batch.put(key, value)
        self.db.write(batch)  # one atomic write

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self.db.items())

    def empty(self) -> bool:
        return next(iter(self.db.keys()), None) is None

    def close(self) -> None:
        self.db.close()
