"""The sync-health banner: the one thing on the operator's screen that says results pile up.

A footer item ("central: unreachable") is too small to notice from the machine,
and on a narrow panel it used to be cut off. When central cannot be reached,
refuses the station's token, or results have waited longer than
`web.sync_alert_minutes`, the page shows a banner in large type that says what
is wrong, how many results wait and since when. Nothing is lost meanwhile (the
outbox keeps them), and the banner says so, so the operator keeps trimming and
tells IT.

The words are built here, once, and sent in /api/status (`sync_alert`), so the
first render and every poll of status.js show exactly the same text.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

DEFAULT_AFTER_S = 15 * 60.0


def duration_words(seconds: float | None) -> str:
    """A duration as an operator says it: '12 s', '5 min', '3 h', '2 d'."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def clock_words(iso: str | None, now: datetime) -> str:
    """'14:02' today, '12-03 14:02' on another day, in the station PC's own clock."""
    if not iso:
        return "—"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return "—"
    local = moment.astimezone() if moment.tzinfo is not None else moment
    today = now.astimezone().date() if now.tzinfo is not None else now.date()
    return local.strftime("%H:%M" if local.date() == today else "%m-%d %H:%M")


def waiting_words(outbox: dict[str, Any], now: datetime) -> str:
    """'37 results waiting since 14:02 (2 h)', or 'no results waiting'."""
    pending = int(outbox.get("pending") or 0)
    if pending == 0:
        return "no results waiting to be sent"
    noun = "result" if pending == 1 else "results"
    since = clock_words(outbox.get("oldest_at"), now)
    age = duration_words(outbox.get("oldest_age_s"))
    return f"{pending} {noun} waiting since {since} ({age})"


def sync_alert(
    central: dict[str, Any] | None,
    outbox: dict[str, Any],
    now: datetime,
    after_s: float = DEFAULT_AFTER_S,
) -> dict[str, str] | None:
    """{kind, headline, detail} when sync needs the operator's attention, else None.

    kind is "token" (central refused the station's token: nothing will be sent
    until IT fixes it), "unreachable" (central did not answer), or "waiting"
    (central answers, but the oldest result has waited over `after_s`).
    """
    if not central or not central.get("configured"):
        return None
    waiting = waiting_words(outbox, now)
    last = central.get("last_sync_at")
    last_words = f"last sync {clock_words(last, now)}" if last else "no sync yet"
    if central.get("auth_failed"):
        return {
            "kind": "token",
            "headline": "CENTRAL REFUSES THIS STATION'S TOKEN",
            "detail": f"{waiting} · {last_words} · results are kept here; "
            "tell IT to check central.token in the agent's config",
        }
    if central.get("reachable") is False:
        return {
            "kind": "unreachable",
            "headline": "CENTRAL UNREACHABLE",
            "detail": f"{waiting} · {last_words} · results are kept here and sent "
            "when central answers; tell IT if this lasts",
        }
    age = outbox.get("oldest_age_s")
    if outbox.get("pending") and age is not None and age > after_s:
        return {
            "kind": "waiting",
            "headline": f"RESULTS NOT SENT FOR {duration_words(age).upper()}",
            "detail": f"{waiting} · {last_words} · central answers but has not taken them yet",
        }
    return None
