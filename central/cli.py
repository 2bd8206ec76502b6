"""`lta-central`: parses arguments and delegates; the work lives in plain functions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from shared.errors import LtaError
from shared.version import __version__

EXIT_OK = 0
EXIT_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lta-central", description="Laser Trim Analyzer Edge central service."
    )
    parser.add_argument("--version", action="version", version=f"lta-central {__version__}")
    parser.add_argument(
        "--config", type=Path, default=None, help="config file (default: LTA_CENTRAL_CONFIG)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the ingest API (migrates the database first)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    init = commands.add_parser("init-config", help="write a commented default config file")
    init.add_argument("path", type=Path, metavar="PATH")
    stats = commands.add_parser("stats", help="results, distinct ids and tracks per station")
    stats.add_argument("--json", action="store_true", help="print JSON")
    station = commands.add_parser("station", help="manage stations and their tokens")
    actions = station.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a station; prints its token once")
    add.add_argument("name")
    actions.add_parser("list", help="list stations")
    revoke = actions.add_parser("revoke", help="refuse a station's token from now on")
    revoke.add_argument("name")
    demo = commands.add_parser(
        "demo", help="run the whole system: central, two agents, two simulated stations"
    )
    demo.add_argument("--rate", type=float, default=12.0, help="units per minute per station")
    demo.add_argument(
        "--central-port", type=int, default=8720, help="central's port (default 8720)"
    )
    demo.add_argument(
        "--agent-port",
        type=int,
        default=8710,
        help="the first agent's port; the second takes the next one (default 8710)",
    )
    _user_parser(commands)
    _seed_parser(commands)
    _specs_parser(commands)
    return parser


def _specs_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    specs = commands.add_parser("specs", help="QA's model-spec table: import and export")
    actions = specs.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="add or change models from a CSV or XLSX file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--strict", action="store_true", help="import nothing if any row fails")
    imp.add_argument("--reason", default=None, help="why (kept with every change)")
    exp = actions.add_parser("export", help="write the table to a CSV or XLSX file")
    exp.add_argument("file", type=Path)


def _seed_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    seed = commands.add_parser(
        "seed", help="fill an empty database with realistic results (demos, benchmarks)"
    )
    seed.add_argument("--tracks", type=int, default=100_000, help="tracks to write")
    seed.add_argument("--stations", type=int, default=20, help="stations making them")
    seed.add_argument("--models", type=int, default=50, help="part numbers")
    seed.add_argument("--days", type=int, default=365, help="days back from now")
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same results)")
    seed.add_argument(
        "--station-names",
        default="",
        help="comma-separated names of existing stations to give the history to (one per "
        "--stations; their agents report, so no heartbeat is made up); default seed-line-NN",
    )


def _user_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    user = commands.add_parser("user", help="manage dashboard users")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add", help="add a user; the password is read from stdin (typed twice at a terminal)"
    )
    add.add_argument("name")
    add.add_argument("--role", choices=["viewer", "admin"], required=True)
    actions.add_parser("list", help="list users: role, state, last sign-in")
    for name, text in (
        ("disable", "refuse the user's sign-ins and end their sessions"),
        ("enable", "let a disabled user sign in again"),
        ("password", "set a new password (read from stdin); ends sessions, lifts a lock-out"),
    ):
        actions.add_parser(name, help=text).add_argument("name")
    role = actions.add_parser("set-role", help="make a user viewer or admin")
    role.add_argument("name")
    role.add_argument("role", choices=["viewer", "admin"])


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from central.config import load_config

    return load_config(args.config)


def _with_db(args: argparse.Namespace, work: Callable[..., int]) -> int:
    from loguru import logger

    from central.service import connect

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    db = connect(_config(args))
    try:
        return work(db)
    finally:
        db.close()


def cmd_serve(args: argparse.Namespace) -> int:
    from central.service import serve

    return serve(_config(args))


def cmd_migrate(args: argparse.Namespace) -> int:
    def done(db: object) -> int:
        print("database schema is up to date")
        return EXIT_OK

    return _with_db(args, done)


def cmd_init_config(args: argparse.Namespace) -> int:
    from central.config import write_default_config

    write_default_config(args.path)
    print(f"wrote {args.path}; edit it, then run: lta-central --config {args.path} serve")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from central.stats import station_stats

    def show(db):  # type: ignore[no-untyped-def]
        rows = station_stats(db)
        if args.json:
            print(json.dumps(rows))
        else:
            for row in rows:
                print(
                    f"{row['station']:<24} results {row['results']:>8}  "
                    f"distinct {row['distinct_result_ids']:>8}  tracks {row['tracks']:>8}"
                )
        return EXIT_OK

    return _with_db(args, show)


def cmd_station(args: argparse.Namespace) -> int:
    from central import stations
    from central.auth import audit

    def act(db):  # type: ignore[no-untyped-def]
        if args.action == "add":
            token = stations.add_station(db, args.name)
            audit.record(db, audit.CLI, audit.Action.STATION_ADD, args.name, "token issued")
            print(f"Station {args.name} added. Its token (shown only now; set it as")
            print("LTA_AGENT_CENTRAL_TOKEN or central.token on that station):")
            print(token)
        elif args.action == "list":
            for s in stations.list_stations(db):
                state = "revoked" if s.revoked_at else "active"
                seen = s.last_seen_at.isoformat() if s.last_seen_at else "never"
                print(f"{s.name:<24} {state:<8} last seen {seen}")
        else:
            stations.revoke_station(db, args.name)
            audit.record(db, audit.CLI, audit.Action.STATION_REVOKE, args.name)
            print(f"Station {args.name} revoked; its results are kept.")
        return EXIT_OK

    return _with_db(args, act)


def cmd_user(args: argparse.Namespace) -> int:
    from central.auth import audit, users

    password = ""
    if args.action in ("add", "password"):
        # Read and checked before the database opens: a weak password costs nothing.
        password = users.read_password()
        users.check_password_strength(password, args.name)

    def act(db):  # type: ignore[no-untyped-def]
        if args.action == "add":
            user = users.add_user(db, args.name, args.role, password, audit.CLI)
            print(f"User {user.name} added as {user.role}; they can sign in at /login now.")
        elif args.action == "list":
            for u in users.list_users(db):
                state = "active" if u.active else "disabled"
                seen = u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never"
                print(f"{u.name:<24} {u.role:<7} {state:<9} last sign-in {seen}")
        elif args.action == "disable":
            users.disable_user(db, args.name, audit.CLI)
            print(f"User {users.normalise_name(args.name)} disabled; their sessions have ended.")
        elif args.action == "enable":
            users.enable_user(db, args.name, audit.CLI)
            print(f"User {users.normalise_name(args.name)} enabled.")
        elif args.action == "set-role":
            user = users.set_role(db, args.name, args.role, audit.CLI)
            print(f"User {user.name} is now {user.role}.")
        else:
            user = users.set_password(db, args.name, password, audit.CLI)
            print(f"New password set for {user.name}; their sessions have ended.")
        return EXIT_OK

    return _with_db(args, act)


def cmd_seed(args: argparse.Namespace) -> int:
    from central.seed import SeedPlan, seed

    names = tuple(n.strip() for n in args.station_names.split(",") if n.strip())
    plan = SeedPlan(
        args.tracks, args.stations, args.models, args.days, seed=args.seed, station_names=names
    )
    shown = [0]

    def progress(done: int, planned: int) -> None:
        if done * 20 // planned > shown[0] or done == planned:
            shown[0] = done * 20 // planned
            print(f"  {done:>11,} of {planned:,} tracks", file=sys.stderr, flush=True)

    def fill(db):  # type: ignore[no-untyped-def]
        report = seed(db, plan, progress)
        print(
            f"Seeded {report.results:,} results / {report.tracks:,} tracks from "
            f"{len(report.stations)} stations in {report.seconds:,.0f} s "
            f"({report.tracks_per_s:,.0f} tracks/s); database size "
            f"{report.database_bytes / 1e9:.2f} GB"
        )
        return EXIT_OK

    return _with_db(args, fill)


def cmd_demo(args: argparse.Namespace) -> int:
    from central.demo import DemoError, Ports, run_system_demo

    try:
        ports = Ports(central=args.central_port, first_agent=args.agent_port)
        return run_system_demo(rate_per_minute=args.rate, ports=ports)
    except DemoError as exc:
        print(f"lta-central demo: {exc}", file=sys.stderr)
        return EXIT_FAILED


def cmd_specs(args: argparse.Namespace) -> int:
    from central.auth import audit
    from central.specs import transfer

    def act(db):  # type: ignore[no-untyped-def]
        if args.action == "export":
            content = transfer.export_bytes(db, transfer.format_of(args.file))
            args.file.write_bytes(content)
            print(f"wrote {args.file}")
            return EXIT_OK
        report = transfer.import_path(db, args.file, audit.CLI, args.strict, args.reason)
        for line in report.lines():
            print(line)
        return EXIT_OK if report.imported and not report.problems else EXIT_FAILED

    return _with_db(args, act)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "init-config": cmd_init_config,
    "stats": cmd_stats,
    "station": cmd_station,
    "demo": cmd_demo,
    "user": cmd_user,
    "seed": cmd_seed,
    "specs": cmd_specs,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except LtaError as exc:
        print(f"lta-central: {exc.message}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
