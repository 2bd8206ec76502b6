"""`lta-central`: only `--version` until the central service issue lands."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from shared.version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lta-central",
        description="Laser Trim Analyzer Edge central service.",
    )
    parser.add_argument("--version", action="version", version=f"lta-central {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0
