"""The spec table in PostgreSQL: read it, change it (versioned and audited), hand it out.

Every change goes through `save_specs`: in one transaction it locks the table
version, works out per model what changed (fields before and after), writes
the rows, their names (model and aliases, one owner each), a history row per
changed model and an audit entry, and moves the table version once. A save
that changes nothing moves nothing, so an export imported again leaves the
version (and every station's cached copy) as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from central.auth import audit
from central.auth.audit import Action, Actor
from central.db import Database
from central.specs.files import name_key
from central.specs.record import COLUMNS, SpecRow
from shared.errors import ErrorCode, LtaError
from shared.model_specs import SpecTable

MAX_REASON = 500
VERSION_PREFIX = "central:"
_META = ("revision", "table_version", "updated_at", "updated_by")
# Our own column names only: no value is ever formatted into SQL.
_SELECT = f"SELECT {', '.join(COLUMNS)}, {', '.join(_META)} FROM model_specs"  # noqa: S608


class SpecStoreError(LtaError):
    """A change the table refuses (a name owned by another model, no reason given)."""

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(ErrorCode.CONFIG_INVALID, message)
        self.problems = problems or {}


@dataclass(frozen=True)
class StoredSpec:
    spec: SpecRow
    revision: int
    table_version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class Change:
    id: int
    table_version: int
    model: str
    revision: int
    at: datetime
    actor: str
    reason: str
    changes: dict[str, list[Any]]


@dataclass
class SaveReport:
    version: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def moved(self) -> bool:
        return bool(self.added or self.changed)


def _spec(row: Sequence[Any]) -> StoredSpec:
    values = dict(zip(COLUMNS, row[: len(COLUMNS)], strict=True))
    values["aliases"] = tuple(values["aliases"] or ())
    values["exclude_points"] = tuple(values["exclude_points"] or ())
    fields = {k: v for k, v in values.items() if v is not None}
    revision, version, at, by = row[len(COLUMNS) :]
    return StoredSpec(SpecRow.model_validate(fields), int(revision), int(version), at, str(by))


def table_version(db: Database) -> int:
    with db.pool.connection() as conn:
        row = conn.execute("SELECT version FROM model_spec_table").fetchone()
    return int(row[0]) if row else 0


def list_specs(
    db: Database,
    search: str | None = None,
    element_type: str | None = None,
    product_class: str | None = None,
    limit: int = 1000,
) -> list[StoredSpec]:
    """Rows by model; `search` matches a model, an alias, element type or product class."""
    where: list[str] = []
    params: list[Any] = []
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "(model ILIKE %s OR element_type ILIKE %s OR product_class ILIKE %s OR EXISTS "
            "(SELECT 1 FROM model_spec_names n WHERE n.model = model_specs.model "
            "AND n.name_key LIKE lower(%s)))"
        )
        params += [pattern, pattern, pattern, pattern]
    if element_type:
        where.append("element_type = %s")
        params.append(element_type)
    if product_class:
        where.append("product_class = %s")
        params.append(product_class)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    with db.pool.connection() as conn:
        rows = conn.execute(
            f"{_SELECT}{clause} ORDER BY model LIMIT %s",
            (*params, limit),
        ).fetchall()
    return [_spec(r) for r in rows]


def get_spec(db: Database, name: str) -> StoredSpec | None:
    """The row a model number or any of its aliases names (case-blind)."""
    with db.pool.connection() as conn:
        row = conn.execute(
            f"{_SELECT} WHERE model = (SELECT model FROM model_spec_names WHERE name_key = %s)",  # noqa: S608
            (name_key(name),),
        ).fetchone()
    return None if row is None else _spec(row)


def facets(db: Database) -> tuple[list[str], list[str]]:
    """The element types and product classes in use (filters on /specs, /models, overview)."""
    with db.pool.connection() as conn:
        kinds = conn.execute(
            "SELECT DISTINCT element_type FROM model_specs WHERE element_type IS NOT NULL "
            "ORDER BY 1"
        ).fetchall()
        classes = conn.execute(
            "SELECT DISTINCT product_class FROM model_specs WHERE product_class IS NOT NULL "
            "ORDER BY 1"
        ).fetchall()
    return [str(r[0]) for r in kinds], [str(r[0]) for r in classes]


def history(db: Database, model: str, limit: int = 50) -> list[Change]:
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, table_version, model, revision, at, actor, reason, changes "
            "FROM model_spec_changes WHERE model = %s ORDER BY id DESC LIMIT %s",
            (model, limit),
        ).fetchall()
    return [Change(*r) for r in rows]


def station_table(db: Database) -> tuple[int, SpecTable, dict[str, Any]]:
    """The table as stations judge by it, its version, and any re-analysis QA asked for."""
    with db.pool.connection() as conn, conn.transaction():
        meta = conn.execute(
            "SELECT version, reanalyse_days, reanalyse_models FROM model_spec_table"
        ).fetchone()
        rows = conn.execute(f"{_SELECT} ORDER BY model").fetchall()
    version = int(meta[0]) if meta else 0
    specs = tuple(_spec(r).spec.for_station() for r in rows)
    reanalyse = {"days": int(meta[1]), "models": list(meta[2])} if meta else {}
    return version, SpecTable(version=f"{VERSION_PREFIX}{version}", specs=specs), reanalyse


# --------------------------------------------------------------------------- changes


def _diff(before: SpecRow | None, after: SpecRow) -> dict[str, list[Any]]:
    # A new model's change lists what it sets, not every default it starts with.
    old = (before or SpecRow(model=after.model)).cells()
    new = after.cells()
    changed = {c: [old[c], new[c]] for c in COLUMNS if old[c] != new[c] and c != "model"}
    return changed if before is not None or changed else {"model": [None, after.model]}


def _refusals(conn: psycopg.Connection, specs: Sequence[SpecRow]) -> dict[str, str]:
    """Names (models, aliases) another model keeps owning after the save."""
    incoming = {name_key(s.model) for s in specs}
    names = conn.execute("SELECT name_key, model FROM model_spec_names").fetchall()
    owners: dict[str, str] = {str(k): str(m) for k, m in names}
    kept = {k: m for k, m in owners.items() if name_key(m) not in incoming}
    refused: dict[str, str] = {}
    for spec in specs:
        for name in (spec.model, *spec.aliases):
            owner = kept.get(name_key(name))
            if owner is not None:
                what = "is an alias of" if name_key(owner) != name_key(name) else "is"
                refused[spec.model] = f"'{name}' {what} model {owner}"
    return refused


def _write_row(
    conn: psycopg.Connection, spec: SpecRow, revision: int, version: int, actor: Actor
) -> None:
    cells = spec.cells()
    values = [cells[c] for c in COLUMNS]
    values[COLUMNS.index("aliases")] = list(spec.aliases)
    values[COLUMNS.index("exclude_points")] = list(spec.exclude_points)
    placeholders = ", ".join(["%s"] * (len(COLUMNS) + 4))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*COLUMNS[1:], *_META))
    conn.execute(
        f"INSERT INTO model_specs ({', '.join(COLUMNS)}, {', '.join(_META)}) "  # noqa: S608
        f"VALUES ({placeholders}) ON CONFLICT (model) DO UPDATE SET {updates}",
        (*values, revision, version, datetime.now().astimezone(), actor.name[:200]),
    )
    conn.execute("DELETE FROM model_spec_names WHERE model = %s", (spec.model,))
    names = {name_key(n) for n in (spec.model, *spec.aliases)}
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO model_spec_names (name_key, model) VALUES (%s, %s)",
            [(n, spec.model) for n in sorted(names)],
        )


def _summary(changes: dict[str, list[Any]]) -> str:
    parts = [f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in changes.items()]
    return "; ".join(parts) or "no field changed"


def save_specs(
    db: Database,
    specs: Iterable[SpecRow],
    actor: Actor,
    reason: str,
    action: Action = Action.SPEC_CHANGE,
    skip_refused: bool = False,
    reanalyse_days: int = 0,
) -> SaveReport:
    """Add or change rows in one transaction; see the module docstring.

    A row whose model or alias another model owns is refused: the whole save
    (SpecStoreError) unless `skip_refused`, when the others are saved and the
    refusals reported. `reanalyse_days` > 0 asks stations to judge that many
    days of the changed models again (0: from the next file on only).
    """
    reason = " ".join(reason.split())[:MAX_REASON]
    if not reason:
        raise SpecStoreError("Say why the spec changes (the reason is kept with the change).")
    incoming = list(specs)
    with db.pool.connection() as conn, conn.transaction():
        # The singleton row may be gone (a test's TRUNCATE, a hand-made restore).
        conn.execute("INSERT INTO model_spec_table DEFAULT VALUES ON CONFLICT DO NOTHING")
        row = conn.execute("SELECT version FROM model_spec_table FOR UPDATE").fetchone()
        version = int(row[0]) if row else 0
        refused = _refusals(conn, incoming)
        if refused and not skip_refused:
            raise SpecStoreError(
                "Nothing was saved: " + "; ".join(f"{m}: {w}" for m, w in refused.items()),
                refused,
            )
        report = SaveReport(version=version, refused=refused)
        current = {
            name_key(s.spec.model): s
            for s in (_spec(r) for r in conn.execute(f"{_SELECT} FOR UPDATE").fetchall())
        }
        planned: list[tuple[SpecRow, StoredSpec | None, dict[str, list[Any]]]] = []
        for spec in incoming:
            if spec.model in refused:
                continue
            before = current.get(name_key(spec.model))
            if before is not None and before.spec.model != spec.model:
                spec = spec.model_copy(update={"model": before.spec.model})  # keep its spelling
            changes = _diff(before.spec if before else None, spec)
            if before is not None and not changes:
                report.unchanged.append(spec.model)
                continue
            planned.append((spec, before, changes))
        if not planned:
            return report
        version += 1
        for spec, before, changes in planned:
            revision = before.revision + 1 if before else 1
            _write_row(conn, spec, revision, version, actor)
            conn.execute(
                "INSERT INTO model_spec_changes (table_version, model, revision, actor, reason, "
                "changes, spec) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    version,
                    spec.model,
                    revision,
                    actor.name[:200],
                    reason,
                    Jsonb(changes),
                    Jsonb(spec.cells()),
                ),
            )
            (report.changed if before else report.added).append(spec.model)
            detail = f"v{version} r{revision} ({reason}): {_summary(changes)}"
            audit.record_in(conn, actor, action, spec.model, detail)
        changed_models = [s.model for s, _, _ in planned]
        conn.execute(
            "UPDATE model_spec_table SET version = %s, changed_at = now(), reanalyse_days = %s, "
            "reanalyse_models = %s",
            (version, max(0, reanalyse_days), changed_models if reanalyse_days > 0 else []),
        )
        report.version = version
    return report
