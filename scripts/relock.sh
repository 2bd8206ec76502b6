#!/usr/bin/env bash
# Re-resolve poetry.lock. Poetry resolves through a "legacy" (simple HTML)
# index given in LTA_LOCK_INDEX_URL, because some registries and mirrors only
# serve that API; the source is added for the resolve only and scrubbed from
# the lock afterwards, so the committed files name no registry host.
# See docs/decisions/0002-poetry-lock-and-pip-install.md.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LTA_LOCK_INDEX_URL:?set LTA_LOCK_INDEX_URL to the simple API URL of your package index}"

cp pyproject.toml .pyproject.toml.orig
trap 'mv .pyproject.toml.orig pyproject.toml' EXIT
export POETRY_VIRTUALENVS_CREATE=false
.tools/bin/poetry source add --priority=primary lockindex "$LTA_LOCK_INDEX_URL" >/dev/null
.tools/bin/poetry lock "$@"
mv .pyproject.toml.orig pyproject.toml
trap - EXIT
.tools/bin/python scripts/scrub_lock.py poetry.lock
.tools/bin/poetry check --lock
