"""Write the JSON Schema of every topic's record to ``schemas/jsonschema/<topic>.json``.

    python -m schemas.export          # rewrite the files
    python -m schemas.export --check  # exit 1 if a file is out of date (the tests do this)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from schemas.topics import TOPIC_MODELS

SCHEMA_DIR = Path(__file__).resolve().parent / "jsonschema"


def render() -> dict[Path, str]:
    out = {}
    for topic, model in TOPIC_MODELS.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"truevoice:{topic}"
        schema["x-topic"] = topic
        out[SCHEMA_DIR / f"{topic}.json"] = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return out


def stale() -> list[Path]:
    return [path for path, text in render().items() if not path.exists() or path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only report out-of-date files")
    args = ap.parse_args(argv)
    if args.check:
        old = stale()
        for path in old:
            print(f"out of date: {path} (run python -m schemas.export)")
        return 1 if old else 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for path, text in render().items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
