"""Users against a real PostgreSQL: hashing, password rules, roles, the last admin,
audit entries, and `lta-central user ...` run in-process and as a real process."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from loguru import logger

from central.auth import lockout, sessions
from central.auth.audit import CLI, Actor
from central.auth.lockout import LockoutPolicy
from central.auth.users import (
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    Role,
    UserError,
    WeakPasswordError,
    add_user,
    check_login,
    check_password_strength,
    disable_user,
    enable_user,
    get_user,
    hash_password,
    list_users,
    read_password,
    set_password,
    set_role,
    verify_password,
)
from central.cli import EXIT_FAILED, EXIT_OK, main
from central.db import Database
from tests.central.auth_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    Accounts,
    audit_rows,
)

BOSS = Actor("ada.admin", "10.1.2.3")
PASSWORD = "Correct-Horse-91"  # noqa: S105 - test password
HOUR = timedelta(hours=1)


# --------------------------------------------------------------------------- hashing


def test_hash_is_scrypt_with_its_parameters_and_a_fresh_salt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, SCRYPT_R, SCRYPT_P)
    assert (SCRYPT_N, SCRYPT_R, SCRYPT_P) == (2**15, 8, 1)
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32
    assert first != second  # a salt of its own per hash
    assert PASSWORD not in first
    # The stored key is scrypt of the password with the stored salt and parameters.
    expected = hashlib.scrypt(
        PASSWORD.encode(), salt=base64.b64decode(salt), n=2**15, r=8, p=1, maxmem=2**26, dklen=32
    )
    assert base64.b64decode(key) == expected


def test_verify_accepts_only_the_password_and_never_a_malformed_hash() -> None:
    stored = hash_password(PASSWORD)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD.lower())
    assert not verify_password(stored, PASSWORD + " ")
    assert not verify_password(stored, "")
    cheap = hash_password(PASSWORD, n=2**10)  # parameters travel with the hash
    assert verify_password(cheap, PASSWORD)
    _, n, r, p, salt, key = stored.split("$")
    for broken in (
        "",
        "plain-text",
        f"bcrypt${n}${r}${p}${salt}${key}",
        f"scrypt$x${r}${p}${salt}${key}",
        f"scrypt${2**30}${r}${p}${salt}${key}",  # would allocate a terabyte
        f"scrypt$1${r}${p}${salt}${key}",
        f"scrypt${n}${r}${p}$!!!${key}",
    ):
        assert not verify_password(broken, PASSWORD), broken


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("", "empty"),
        ("short-1A", "8 characters"),
        ("aaaaaaaaaaaa", "different"),
        ("abababababab", "different"),
        ("Password123", "guessing list"),
        ("qwertyuiop", "guessing list"),
        ("Xy-ada.admin-9", "user name"),
        ("x" * 300 + "abcd", "longer than 256"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        check_password_strength(password, ADMIN)
    assert why in caught.value.message
    assert caught.value.reason == "weak_password"


def test_a_good_password_passes() -> None:
    check_password_strength(PASSWORD, ADMIN)
    check_password_strength("ünïcödé pass phrase", ADMIN)


# --------------------------------------------------------------------------- users in PostgreSQL


def test_add_stores_a_hash_and_audits(central_db: Database) -> None:
    user = add_user(central_db, "  J.Smith ", "Viewer", PASSWORD, BOSS)
    assert (user.name, user.role, user.active) == ("j.smith", Role.VIEWER, True)
    with central_db.pool.connection() as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE name = 'j.smith'").fetchone()
    assert row is not None and row[0].startswith("scrypt$") and PASSWORD not in row[0]
    assert audit_rows(central_db) == [
        ("ada.admin", "user.add", "j.smith", "10.1.2.3", "role viewer")
    ]
    assert [u.name for u in list_users(central_db)] == ["j.smith"]
    assert get_user(central_db, "J.SMITH") == user


@pytest.mark.parametrize(
    ("name", "role", "password", "reason"),
    [
        ("bad name", "viewer", PASSWORD, "bad_name"),
        ("-dash", "viewer", PASSWORD, "bad_name"),
        ("x" * 65, "viewer", PASSWORD, "bad_name"),
        ("newbie", "superuser", PASSWORD, "bad_role"),
        ("newbie", "viewer", "short", "weak_password"),
    ],
)
def test_bad_input_adds_nothing(
    central_db: Database, name: str, role: str, password: str, reason: str
) -> None:
    with pytest.raises(UserError) as caught:
        add_user(central_db, name, role, password, BOSS)
    assert caught.value.reason == reason
    assert list_users(central_db) == []
    assert audit_rows(central_db) == []


def test_a_name_is_taken_once_whatever_its_case(central_db: Database) -> None:
    add_user(central_db, "qa1", Role.VIEWER, PASSWORD, BOSS)
    with pytest.raises(UserError) as caught:
        add_user(central_db, "QA1", Role.ADMIN, "Other-Password-5", BOSS)
    assert caught.value.reason == "exists"
    user = get_user(central_db, "qa1")
    assert user is not None and user.role is Role.VIEWER
    assert verify_password(_stored_hash(central_db, "qa1"), PASSWORD)


def _stored_hash(db: Database, name: str) -> str:
    with db.pool.connection() as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE name = %s", (name,)).fetchone()
    assert row is not None
    return str(row[0])


def test_check_login_says_why_for_the_log(central_db: Database, accounts: Accounts) -> None:
    ok = check_login(central_db, " Ada.Admin ", ADMIN_PASSWORD)
    assert ok.user is not None and ok.user.name == ADMIN and ok.refusal is None
    assert check_login(central_db, ADMIN, VIEWER_PASSWORD).refusal == "wrong password"
    assert check_login(central_db, "nobody", ADMIN_PASSWORD).refusal == "unknown user"
    disable_user(central_db, VIEWER, BOSS)
    disabled = check_login(central_db, VIEWER, VIEWER_PASSWORD)
    assert disabled.user is None and disabled.refusal == "account disabled"


def test_disable_ends_sessions_and_enable_restores_sign_in(
    central_db: Database, accounts: Accounts
) -> None:
    viewer = get_user(central_db, VIEWER)
    assert viewer is not None
    session = sessions.create_session(central_db, viewer.pk, HOUR, "10.0.0.9")
    assert sessions.load_session(central_db, session.token) is not None
    disabled = disable_user(central_db, VIEWER, BOSS)
    assert not disabled.active
    assert sessions.load_session(central_db, session.token) is None
    assert disable_user(central_db, VIEWER, BOSS).disabled_at == disabled.disabled_at  # no-op
    enabled = enable_user(central_db, VIEWER, BOSS)
    assert enabled.active
    assert enable_user(central_db, VIEWER, BOSS) == enabled  # no-op, not audited twice
    assert check_login(central_db, VIEWER, VIEWER_PASSWORD).user is not None
    actions = [(a, action, target) for a, action, target, _, _ in audit_rows(central_db)]
    assert actions[-2:] == [
        ("ada.admin", "user.disable", VIEWER),
        ("ada.admin", "user.enable", VIEWER),
    ]
    assert audit_rows(central_db)[-2][4] == "1 session(s) ended"


def test_roles_change_and_the_last_admin_stays(central_db: Database, accounts: Accounts) -> None:
    for attempt in (
        lambda: set_role(central_db, ADMIN, Role.VIEWER, BOSS),
        lambda: disable_user(central_db, ADMIN, BOSS),
    ):
        with pytest.raises(UserError) as caught:
            attempt()
        assert caught.value.reason == "last_admin"
        assert "only active admin" in caught.value.message
    admin = get_user(central_db, ADMIN)
    assert admin is not None and admin.role is Role.ADMIN and admin.active
    promoted = set_role(central_db, VIEWER, "admin", BOSS)
    assert promoted.role is Role.ADMIN
    assert set_role(central_db, ADMIN, Role.VIEWER, BOSS).role is Role.VIEWER  # now allowed
    assert set_role(central_db, ADMIN, Role.VIEWER, BOSS).role is Role.VIEWER  # no-op
    assert [d for _, a, _, _, d in audit_rows(central_db) if a == "user.role"] == [
        "viewer -> admin",
        "admin -> viewer",
    ]
    with pytest.raises(UserError) as caught:
        set_role(central_db, "ghost", Role.ADMIN, BOSS)
    assert caught.value.reason == "unknown_user"


def test_new_password_ends_sessions_and_lifts_the_lock(
    central_db: Database, accounts: Accounts
) -> None:
    viewer = get_user(central_db, VIEWER)
    assert viewer is not None
    session = sessions.create_session(central_db, viewer.pk, HOUR, None)
    policy = LockoutPolicy(max_failures=1)
    assert lockout.record_failure(central_db, VIEWER, policy) is not None
    set_password(central_db, VIEWER, PASSWORD, BOSS)
    assert sessions.load_session(central_db, session.token) is None
    assert lockout.locked_until(central_db, VIEWER) is None
    assert check_login(central_db, VIEWER, PASSWORD).user is not None
    assert check_login(central_db, VIEWER, VIEWER_PASSWORD).user is None
    with pytest.raises(WeakPasswordError):
        set_password(central_db, VIEWER, "weak", BOSS)
    assert check_login(central_db, VIEWER, PASSWORD).user is not None


def test_read_password_takes_one_line_from_a_pipe() -> None:
    assert read_password(io.StringIO("s3cret pass phrase\nsecond line\n")) == "s3cret pass phrase"
    assert read_password(io.StringIO("with-crlf-9876\r\n")) == "with-crlf-9876"
    assert read_password(io.StringIO("")) == ""


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, central_db: Database, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """The commands' environment: this module's database, no config file."""
    for name in list(os.environ):
        if name.startswith("LTA_CENTRAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LTA_CENTRAL_DATABASE_URL", central_db.url)
    monkeypatch.setenv("LTA_CENTRAL_DATA_DIR", str(tmp_path / "central"))
    yield {name: value for name, value in os.environ.items()}
    logger.remove()  # the commands point loguru at the captured stderr; undo that
    logger.add(sys.stderr)


def run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(argv))


def test_cli_user_add_list_disable(
    cli_env: dict[str, str],
    central_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(monkeypatch, "user", "add", "Qa.Lead", "--role", "admin", stdin=PASSWORD + "\n") == 0
    assert "User qa.lead added as admin" in capsys.readouterr().out
    assert run(monkeypatch, "user", "add", "qa2", "--role", "viewer", stdin=PASSWORD) == EXIT_OK
    capsys.readouterr()
    assert check_login(central_db, "qa.lead", PASSWORD).user is not None
    assert run(monkeypatch, "user", "list") == EXIT_OK
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:3] == ["qa.lead", "admin", "active"]
    assert listed[1].split()[:3] == ["qa2", "viewer", "active"]
    assert run(monkeypatch, "user", "set-role", "qa2", "admin") == EXIT_OK
    assert run(monkeypatch, "user", "disable", "qa2") == EXIT_OK
    assert "disabled" in capsys.readouterr().out
    assert run(monkeypatch, "user", "enable", "qa2") == EXIT_OK
    assert run(monkeypatch, "user", "password", "qa2", stdin="Brand-New-Pass-4\n") == EXIT_OK
    assert check_login(central_db, "qa2", "Brand-New-Pass-4").user is not None
    actions = [(actor, action, target) for actor, action, target, _, _ in audit_rows(central_db)]
    assert actions == [
        ("command line", "user.add", "qa.lead"),
        ("command line", "user.add", "qa2"),
        ("command line", "user.role", "qa2"),
        ("command line", "user.disable", "qa2"),
        ("command line", "user.enable", "qa2"),
        ("command line", "user.password", "qa2"),
    ]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["user", "add", "qa3", "--role", "viewer"], "", "The password is empty"),
        (["user", "add", "qa3", "--role", "viewer"], "abc\n", "use at least 10"),
        (["user", "add", "bad name", "--role", "viewer"], PASSWORD, "is not allowed"),
        (["user", "disable", "ghost"], "", "No user named 'ghost'"),
        (["user", "password", "ghost"], PASSWORD, "No user named 'ghost'"),
    ],
)
def test_cli_refusals_change_nothing(
    cli_env: dict[str, str],
    central_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    assert run(monkeypatch, *argv, stdin=stdin) == EXIT_FAILED
    assert message in capsys.readouterr().err
    assert list_users(central_db) == []
    assert audit_rows(central_db) == []


def test_cli_station_commands_are_audited(
    cli_env: dict[str, str], central_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(monkeypatch, "station", "add", "line-9") == EXIT_OK
    assert run(monkeypatch, "station", "revoke", "line-9") == EXIT_OK
    assert [(a, action, t) for a, action, t, _, _ in audit_rows(central_db)] == [
        ("command line", "station.add", "line-9"),
        ("command line", "station.revoke", "line-9"),
    ]


def test_cli_reads_the_password_from_a_real_pipe(
    cli_env: dict[str, str], central_db: Database
) -> None:
    """As a script runs it: `echo "$PW" | lta-central user add ...`, nothing on the command line."""
    done = subprocess.run(
        [sys.executable, "-m", "central.cli", "user", "add", "piped", "--role", "viewer"],
        input=PASSWORD + "\n",
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert check_login(central_db, "piped", PASSWORD).user is not None
    assert get_user(central_db, "piped") is not None
    assert audit_rows(central_db)[-1][:3] == (CLI.name, "user.add", "piped")


def _run_on_a_terminal(env: dict[str, str], argv: list[str], typed: list[str]) -> tuple[int, str]:
    """Run `lta-central` with a pseudo-terminal as its controlling terminal and type lines."""
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()

    def become_terminal_owner() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "central.cli", *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        preexec_fn=become_terminal_owner,  # a test: no threads started in the child
    )
    os.close(slave)
    seen = b""
    for line in typed:
        while b": " not in seen.rsplit(b"\n", 1)[-1]:  # wait for the prompt
            seen += os.read(master, 1024)
        os.write(master, line.encode() + b"\n")
        seen = b""
    output = b""
    try:
        while chunk := os.read(master, 1024):
            output += chunk
    except OSError:  # the terminal closes when the process ends
        pass
    os.close(master)
    return process.wait(timeout=60), output.decode(errors="replace")


def test_cli_prompts_twice_at_a_terminal(cli_env: dict[str, str], central_db: Database) -> None:
    code, output = _run_on_a_terminal(
        cli_env, ["user", "add", "typed", "--role", "viewer"], [PASSWORD, PASSWORD]
    )
    assert code == 0, output
    assert PASSWORD not in output  # not echoed
    assert check_login(central_db, "typed", PASSWORD).user is not None

    code, output = _run_on_a_terminal(
        cli_env, ["user", "add", "typo", "--role", "viewer"], [PASSWORD, PASSWORD + "x"]
    )
    assert code == EXIT_FAILED and "The two passwords differ" in output
    assert get_user(central_db, "typo") is None
