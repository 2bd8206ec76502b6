"""`lta-agent`: parses arguments and delegates; the work lives in plain functions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from agent.specs_file import load_spec_file
from shared.analysis_settings import AnalysisSettings
from shared.errors import SpecFileError
from shared.models import Status
from shared.version import __version__

EXIT_OK = 0
EXIT_FILE_ERRORS = 2
EXIT_STARTUP_FAILED = 1
EXIT_USAGE = 64  # a bad argument or input file the user named (BSD sysexits EX_USAGE)


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
    analyze.add_argument(
        "--specs",
        type=Path,
        default=None,
        metavar="FILE",
        help="QA's model specs (CSV or XLSX): policy, angle tolerance, excluded points, ...",
    )

    simulate = commands.add_parser("simulate", help="write simulated trim-station files")
    simulate.add_argument("--out", type=Path, required=True, help="folder to write into")
    simulate.add_argument("--count", type=int, default=20, help="number of units (default 20)")
    simulate.add_argument(
        "--rate", type=float, default=None, help="units per minute (default: as fast as possible)"
    )
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument(
        "--date",
        type=_day,
        default=None,
        help="test date of the first unit, YYYY-MM-DD (default: now; an older date writes "
        "history, which the page does not count)",
    )

    run = commands.add_parser("run", help="run the station agent (watch, analyse, serve the page)")
    run.add_argument(
        "--config", type=Path, default=None, help="config file (default: LTA_AGENT_CONFIG or none)"
    )

    init = commands.add_parser("init-config", help="write a commented default config file")
    init.add_argument("path", type=Path, metavar="PATH")

    box = commands.add_parser("outbox", help="results waiting for central")
    box_actions = box.add_subparsers(dest="action", required=True)
    retry = box_actions.add_parser("retry", help="queue dead-letter results to be sent again")
    retry.add_argument("--config", type=Path, default=None, help="config file")
    show = box_actions.add_parser("status", help="pending and dead-letter counts")
    show.add_argument("--config", type=Path, default=None, help="config file")

    again = commands.add_parser(
        "reanalyze",
        help="analyse stored files again under today's analysis and specs; "
        "a changed result becomes a new revision, synced to central",
    )
    again.add_argument("--config", type=Path, default=None, help="config file")
    again.add_argument(
        "--since",
        type=_day,
        default=None,
        metavar="DATE",
        help="only units made on or after this day, YYYY-MM-DD (test date, else analysis day)",
    )
    again.add_argument("--model", default=None, help="only this model")
    again.add_argument(
        "--specs",
        type=Path,
        default=None,
        metavar="FILE",
        help="model specs to judge by (default: the config's analysis.specs_file)",
    )
    again.add_argument("--reason", default=None, help="why, shown with every new revision")
    again.add_argument(
        "--dry-run", action="store_true", help="report what would change; store nothing"
    )
    again.add_argument(
        "--workers", type=int, default=1, help="analysis processes (default 1: the station runs)"
    )

    doctor = commands.add_parser(
        "doctor", help="check this station: config, folders, store, central, token, clock"
    )
    doctor.add_argument(
        "--config", type=Path, default=None, help="config file (default: LTA_AGENT_CONFIG or none)"
    )

    demo = commands.add_parser("demo", help="run the agent on a simulated station (temporary)")
    demo.add_argument("--rate", type=float, default=12.0, help="units per minute (default 12)")
    demo.add_argument("--bind", default="127.0.0.1:8710", help="host:port for the page")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    return parser


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day as YYYY-MM-DD") from None


def _settings(args: argparse.Namespace) -> AnalysisSettings:
    values: dict[str, object] = {"include_curves": bool(args.curves)}
    if args.max_file_mb is not None:
        values["max_file_bytes"] = int(args.max_file_mb * 1024 * 1024)
    if args.max_rows is not None:
        values["max_rows"] = args.max_rows
    if args.specs is not None:
        values["specs"] = load_spec_file(args.specs)
    return AnalysisSettings.model_validate(values)


def run_analyze(args: argparse.Namespace) -> int:
    from agent.batch import analyse_paths, collect_files
    from agent.report import format_json, format_line

    try:
        settings = _settings(args)
    except SpecFileError as exc:
        sys.stderr.write(f"lta-agent analyze: {exc.message}\n")
        return EXIT_USAGE
    files = collect_files(args.paths)
    any_error = False
    for result in analyse_paths(files, settings, args.workers):
        any_error = any_error or result.status is Status.ERROR
        line = format_json(result, args.curves) if args.json else format_line(result)
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return EXIT_FILE_ERRORS if any_error else EXIT_OK


def run_simulate(args: argparse.Namespace) -> int:
    from datetime import datetime, time

    from agent.simulate import now_dated_start, simulate_station, station_clock
    from agent.simulate.station import DEFAULT_SPACING_S

    clock = None
    if args.date is not None:
        start, spacing = datetime.combine(args.date, time(8, 0)), DEFAULT_SPACING_S
    else:
        start, spacing = now_dated_start(args.count, args.rate)
        if args.rate:  # paced: a live station, each unit dated as its file is written
            clock = station_clock
    written = simulate_station(
        args.out,
        count=args.count,
        seed=args.seed,
        rate_per_minute=args.rate,
        start=start,
        spacing_s=spacing,
        on_file=lambda path: print(path, flush=True),
        clock=clock,
    )
    print(f"wrote {len(written)} file(s) to {args.out}", file=sys.stderr)
    return EXIT_OK


def run_service(args: argparse.Namespace) -> int:
    from agent.config import load_config
    from agent.service import run_agent

    return run_agent(load_config(args.config))


def run_init_config(args: argparse.Namespace) -> int:
    from agent.config import write_default_config

    write_default_config(args.path)
    print(
        f"wrote {args.path}; edit it, then start the agent with: lta-agent run --config {args.path}"
    )
    return EXIT_OK


def run_demo_command(args: argparse.Namespace) -> int:
    from agent.demo import run_demo

    return run_demo(rate_per_minute=args.rate, bind=args.bind, seed=args.seed)


def run_outbox(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from agent.config import load_config
    from agent.store import outbox, reads
    from agent.store.store import Store

    store = Store(load_config(args.config).database_path)
    try:
        if args.action == "retry":
            count = store.writer.call(outbox.retry_dead)
            print(f"{count} result(s) queued again; the running agent sends them on its next sync")
        else:
            stats = reads.outbox_stats(store.read(), datetime.now(UTC))
            print(json.dumps(stats))
            for row in outbox.dead_letters(store.read()):
                print(f"dead: {row['file_name']} ({row['result_id']}): {row['last_error']}")
    finally:
        store.close()
    return EXIT_OK


def run_reanalyze(args: argparse.Namespace) -> int:
    from agent.analysis import kernel_cache
    from agent.config import load_config
    from agent.reanalysis import Locator, Options, Outcome, isolated, reanalyse
    from agent.store.store import Store

    config = load_config(args.config)
    try:
        options = Options(
            since=args.since,
            model=args.model,
            reason=args.reason,
            dry_run=args.dry_run,
            workers=max(1, args.workers),
        )
    except ValueError as exc:
        print(f"lta-agent: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILED
    locator = Locator(tuple(config.inbox.paths), config.inbox.archive_dir)
    settings = config.analysis_settings()
    if args.specs is not None:
        try:
            settings = settings.model_copy(update={"specs": load_spec_file(args.specs)})
        except SpecFileError as exc:
            print(f"lta-agent reanalyze: {exc.message}", file=sys.stderr)
            return EXIT_USAGE

    def show(outcome: Outcome) -> None:
        if outcome.kind == "revised":
            verb = "would revise" if args.dry_run else f"revision {outcome.revision}"
            print(f"{verb}: {outcome.file_name}: {outcome.detail}", flush=True)
        elif outcome.kind != "unchanged":
            print(f"{outcome.kind}: {outcome.file_name}: {outcome.detail}", flush=True)

    store = Store(config.database_path)
    try:
        cache = kernel_cache.worker_cache_dir(config.storage.data_dir)
        with isolated(settings, cache) as analyse:
            summary = reanalyse(store, analyse, options, locator, on_outcome=show)
    finally:
        store.close()
    print(("dry run, nothing stored: " if args.dry_run else "") + summary.line(), flush=True)
    return EXIT_FILE_ERRORS if summary.problems else EXIT_OK


def run_doctor_command(args: argparse.Namespace) -> int:
    from agent.doctor import exit_code, report, run_doctor

    checks = run_doctor(args.config)
    print(report(checks), flush=True)
    return exit_code(checks)


COMMANDS = {
    "outbox": run_outbox,
    "analyze": run_analyze,
    "simulate": run_simulate,
    "run": run_service,
    "init-config": run_init_config,
    "demo": run_demo_command,
    "doctor": run_doctor_command,
    "reanalyze": run_reanalyze,
}


def _console_safe() -> None:
    """Never die printing a file name the console's code page cannot show.

    A Windows console or service pipe is cp1252/cp850, not UTF-8; a station file
    named in another script made `analyze` crash with UnicodeEncodeError. Such
    characters are printed escaped instead (stderr already does this).
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    from shared.errors import LtaError

    _console_safe()
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except LtaError as exc:
        print(f"lta-agent: {exc.message}", file=sys.stderr)
        return EXIT_STARTUP_FAILED


if __name__ == "__main__":
    sys.exit(main())
