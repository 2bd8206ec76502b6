"""Print every benchmark figure: `make bench` (or `python -m benchmarks.run [section...]`)."""

from __future__ import annotations

import platform
import sys

from benchmarks import (
    agent,
    analysis,
    before,
    central,
    dashboard,
    priorities,
    read_api,
    real_files,
    retention,
    rotation,
    spc,
    specs,
    watcher,
)

SECTIONS = {
    "analysis": analysis.run,
    "rotation": rotation.run,
    "real": real_files.run,
    "before": before.run,
    "agent": agent.run,
    "watcher": watcher.run,
    "retention": retention.run,
    "central": central.run,
    "spc": spc.run,
    "dashboard": dashboard.run,
    "api": read_api.run,
    "priorities": priorities.run,
    "specs": specs.run,
}


def main(argv: list[str]) -> None:
    chosen = argv or list(SECTIONS)
    print(
        f"# Laser Trim Analyzer Edge benchmarks ({platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()})"
    )
    for name in chosen:
        print(f"\n## {name}")
        for label, value in SECTIONS[name]():
            print(f"{label:<62} {value}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
