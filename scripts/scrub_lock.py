"""Drop resolve-time index sources from poetry.lock and re-stamp its content hash.

Run with the Poetry tool environment's Python (scripts/relock.sh does).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from poetry.factory import Factory

SOURCE_BLOCK = re.compile(r"\n\[package\.source\]\n(?:[a-z-]+ = .*\n)+")
CONTENT_HASH = re.compile(r'^content-hash = "[0-9a-f]+"$', re.MULTILINE)


def main(lock_path: str) -> None:
    path = Path(lock_path)
    text = SOURCE_BLOCK.sub("\n", path.read_text(encoding="utf-8"))
    poetry = Factory().create_poetry(path.parent)
    fresh = poetry.locker._get_content_hash()  # the hash Poetry itself checks
    text = CONTENT_HASH.sub(f'content-hash = "{fresh}"', text)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
