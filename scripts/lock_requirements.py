"""Print poetry.lock as a pip requirements file with hashes (pinned, verified install).

`make install` installs the exact locked versions with pip, the registry client
every machine has; see docs/decisions/0002-poetry-lock-and-pip-install.md.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path


def _markers(package: dict[str, object], groups: set[str]) -> str | None:
    markers = package.get("markers")
    if isinstance(markers, dict):
        chosen = [f"({markers[g]})" for g in sorted(groups) if g in markers]
        return " or ".join(chosen) if chosen else None
    return str(markers) if markers else None


def requirement_lines(lock_path: Path, groups: set[str]) -> list[str]:
    lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    lines = []
    for package in lock["package"]:
        wanted = groups & set(package.get("groups", ["main"]))
        if not wanted:
            continue
        line = f"{package['name']}=={package['version']}"
        marker = _markers(package, wanted)
        if marker:
            line += f" ; {marker}"
        hashes = " ".join(f"--hash={f['hash']}" for f in package.get("files", []))
        lines.append(f"{line} {hashes}".rstrip())
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lock", type=Path, default=Path("poetry.lock"))
    parser.add_argument("--groups", default="main", help="comma-separated dependency groups")
    args = parser.parse_args()
    groups = {g.strip() for g in args.groups.split(",") if g.strip()}
    print("\n".join(requirement_lines(args.lock, groups)))


if __name__ == "__main__":
    main()
