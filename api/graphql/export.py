"""Write the schema's SDL to api/schema.graphql, or check that the file matches the code.

python -m api.graphql.export           # write it
python -m api.graphql.export --check   # exit 1 when the file differs (CI)
"""

from __future__ import annotations

import sys
from pathlib import Path

from api.graphql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def sdl() -> str:
    """Return the schema as SDL text, the way the file holds it."""
    return schema.as_str() + "\n"


def main(argv: list[str]) -> int:
    """Write or check the schema file; return the exit status."""
    text = sdl()
    if "--check" in argv:
        current = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE} differs from the code; run `make schema`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(text)
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
