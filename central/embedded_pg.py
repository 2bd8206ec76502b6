"""Who still uses the embedded PostgreSQL, so the last central to leave stops it; its URL.

pgserver counts the processes using a cluster in `.handle_pids.json` and stops
the server when the last one closes its handle. A central killed with -9
never removes its pid, so every later central saw "another user" and left
the server running forever, even after a clean stop. Before a central joins,
pids of processes that no longer exist are dropped; the one that closes last
then really stops the server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

HANDLE_LIST = ".handle_pids.json"


def forget_dead_users(pg_dir: Path) -> list[int]:
    """Drop pids of vanished processes from the cluster's user list; returns those dropped."""
    path = pg_dir / HANDLE_LIST
    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return []
    if not isinstance(pids, list):
        return []
    alive = [pid for pid in pids if isinstance(pid, int) and _running(pid)]
    dropped = [pid for pid in pids if pid not in alive]
    if dropped:
        path.write_text(json.dumps(alive))
    return dropped


def _running(pid: int) -> bool:
    """Alive and not a zombie (a central killed -9 and not yet reaped is gone too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): existence is all we can tell
    return state != "Z"


def embedded_url(info: Any) -> str:
    """The URL of the embedded server from its postmaster.pid (pgserver's PostmasterInfo).

    The socket folder is percent-encoded: pgserver formats it into the URL as it is,
    so a data folder with "#", "?", "&" or "%" in its path pointed at another folder.
    """
    if info.socket_dir is not None:
        return f"postgresql://postgres:@/postgres?host={quote(str(info.socket_dir), safe='')}"
    return f"postgresql://postgres:@{info.hostname}:{info.port}/postgres"
