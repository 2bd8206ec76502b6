"""Stable identities shared by the agent and central."""

from __future__ import annotations

import uuid

# Fixed namespace so every installation derives the same id for the same input.
RESULT_NAMESPACE = uuid.UUID("6f1d4f1e-2b4a-5c8e-9a57-1c0de5a1e7b3")


def result_id(station_id: str, sha256: str) -> str:
    """The id of a station's result for one file: resending it can never duplicate it."""
    return str(uuid.uuid5(RESULT_NAMESPACE, f"{station_id}:{sha256.lower()}"))
