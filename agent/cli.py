"""`lta-agent`: parses arguments and delegates; the work lives in plain functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shared.analysis_settings import AnalysisSettings
from shared.models import Status
from shared.version import __version__

EXIT_OK = 0
EXIT_FILE_ERRORS = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lta-agent", description="Laser Trim Analyzer Edge station agent."
    )
    parser.add_argument("--version", action="version", version=f"lta-agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser("analyze", help="analyse trim files or folders (recursive)")
    analyze.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    analyze.add_argument("--json", action="store_true", help="one JSON object per line per file")
    analyze.add_argument(
        "--curves", action="store_true", help="with --json: include the curve arrays"
    )
    analyze.add_argument(
        "--workers", type=int, default=None, help="processes to use (default: one per core)"
    )
    analyze.add_argument("--max-file-mb", type=float, default=None, help="file size cap")
    analyze.add_argument("--max-rows", type=int, default=None, help="rows-per-sheet cap")

    simulate = commands.add_parser("simulate", help="write simulated trim-station files")
    simulate.add_argument("--out", type=Path, required=True, help="folder to write into")
    simulate.add_argument("--count", type=int, default=20, help="number of units (default 20)")
    simulate.add_argument(
        "--rate", type=float, default=None, help="units per minute (default: as fast as possible)"
    )
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser


def _settings(args: argparse.Namespace) -> AnalysisSettings:
    values: dict[str, object] = {"include_curves": bool(args.curves)}
    if args.max_file_mb is not None:
        values["max_file_bytes"] = int(args.max_file_mb * 1024 * 1024)
    if args.max_rows is not None:
        values["max_rows"] = args.max_rows
    return AnalysisSettings.model_validate(values)


def run_analyze(args: argparse.Namespace) -> int:
    from agent.batch import analyse_paths, collect_files
    from agent.report import format_json, format_line

    files = collect_files(args.paths)
    any_error = False
    for result in analyse_paths(files, _settings(args), args.workers):
        any_error = any_error or result.status is Status.ERROR
        line = format_json(result, args.curves) if args.json else format_line(result)
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return EXIT_FILE_ERRORS if any_error else EXIT_OK


def run_simulate(args: argparse.Namespace) -> int:
    from agent.simulate import simulate_station

    written = simulate_station(
        args.out,
        count=args.count,
        seed=args.seed,
        rate_per_minute=args.rate,
        on_file=lambda path: print(path, flush=True),
    )
    print(f"wrote {len(written)} file(s) to {args.out}", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "analyze":
        return run_analyze(args)
    return run_simulate(args)


if __name__ == "__main__":
    sys.exit(main())
