"""QA's cost of one failing unit per model: read by the ranking, set and cleared by admins.

A cost is a plain positive number in the plant's own currency (none is stored or
shown), at most MAX_COST: a slip of the keyboard must not make a model outrank the
rest by a factor of a thousand. Every change writes an audit entry in the same
transaction as the change, like the spec table's edits.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from central.auth import audit
from central.auth.audit import Action, Actor
from central.db import Database
from shared.errors import LtaError

MAX_COST = Decimal(1_000_000)
MAX_MODEL = 128
# Digits with at most 4 decimals: no sign, exponent, currency symbol or thousands separator,
# so "1,5" (a decimal comma, or one and a half thousand?) is refused rather than guessed.
_COST = re.compile(r"\d{1,7}(\.\d{1,4})?")


class CostErrorCode(StrEnum):
    INVALID_COST = "cost_invalid"
    INVALID_MODEL = "cost_model_invalid"
    NOT_SET = "cost_not_set"


class CostError(LtaError, ValueError):
    """A cost or model name the page cannot store; nothing was changed."""

    code: CostErrorCode

    def __init__(self, code: CostErrorCode, message: str) -> None:
        super().__init__(code, message)


def parse_cost(text: str) -> Decimal:
    """The cost typed into the form, or CostError saying what to type instead."""
    raw = text.strip()
    value: Decimal | None = None
    if _COST.fullmatch(raw):
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            value = None
    if value is None or not Decimal(0) < value <= MAX_COST:
        raise CostError(
            CostErrorCode.INVALID_COST,
            f"A cost per failing unit is a number above 0 and at most {MAX_COST:,}, with a "
            f"decimal point and no currency sign (e.g. 12.50), not {raw[:20]!r}.",
        )
    return value


def _checked_model(model: str) -> str:
    name = model.strip()
    if not name or len(name) > MAX_MODEL or "\x00" in name:
        raise CostError(
            CostErrorCode.INVALID_MODEL,
            f"Name the model as the model list shows it (1 to {MAX_MODEL} characters).",
        )
    return name


def unit_costs(db: Database) -> dict[str, Decimal]:
    """Every model's cost per failing unit (models without one are absent)."""
    with db.pool.connection() as conn:
        rows = conn.execute("SELECT model, unit_cost FROM model_costs ORDER BY model").fetchall()
    return {str(model): Decimal(cost) for model, cost in rows}


def set_cost(db: Database, model: str, text: str, actor: Actor) -> Decimal:
    """Store the model's cost per failing unit (replacing any), audited; returns it."""
    name, cost = _checked_model(model), parse_cost(text)
    with db.pool.connection() as conn, conn.transaction():
        before = conn.execute(
            "SELECT unit_cost FROM model_costs WHERE model = %s FOR UPDATE", (name,)
        ).fetchone()
        conn.execute(
            "INSERT INTO model_costs (model, unit_cost, updated_by) VALUES (%s, %s, %s) "
            "ON CONFLICT (model) DO UPDATE SET unit_cost = EXCLUDED.unit_cost, "
            "updated_at = now(), updated_by = EXCLUDED.updated_by",
            (name, cost, actor.name[: audit.MAX_TEXT]),
        )
        old = "none" if before is None else f"{Decimal(before[0]).normalize():f}"
        audit.record_in(
            conn, actor, Action.MODEL_COST, name, f"cost per failing unit {old} -> {cost:f}"
        )
    return cost


def clear_cost(db: Database, model: str, actor: Actor) -> None:
    """Remove the model's cost (it then ranks by failures alone), audited."""
    name = _checked_model(model)
    with db.pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "DELETE FROM model_costs WHERE model = %s RETURNING unit_cost", (name,)
        ).fetchone()
        if row is None:
            raise CostError(
                CostErrorCode.NOT_SET, f"Model {name!r} has no cost to clear; nothing changed."
            )
        audit.record_in(
            conn,
            actor,
            Action.MODEL_COST,
            name,
            f"cost per failing unit {Decimal(row[0]).normalize():f} -> none",
        )
