"""Runtime settings built without a config equal those built from a default config.

Each default is written once, in the config model; the settings objects the
services and the tests build take theirs from it. A default changed in one
place only would make the tests run under settings no fresh install has.
"""

from __future__ import annotations

import dataclasses

from agent.config import InboxConfig, WebConfig
from agent.history import HistoryWindow
from agent.watcher import Watcher
from agent.web.context import AgentContext
from central.alarms.rules import AlarmSettings
from central.config import CentralConfig
from central.service import alarm_settings_from, auth_from, limits_from
from central.web.context import AuthSettings, IngestLimits


def test_central_settings_defaults_are_the_config_defaults() -> None:
    config = CentralConfig()
    assert limits_from(config) == IngestLimits()
    assert auth_from(config) == AuthSettings()
    assert alarm_settings_from(config) == AlarmSettings()


def _default(cls: type, name: str) -> object:
    (found,) = [f for f in dataclasses.fields(cls) if f.name == name]
    return found.default


def test_agent_settings_defaults_are_the_config_defaults() -> None:
    inbox = InboxConfig.model_fields
    for name in ("recursive", "poll_interval_s", "settle_s"):
        assert _default(Watcher, name) == inbox[name].default
    assert HistoryWindow().hours == inbox["history_window_hours"].default
    assert (
        _default(AgentContext, "page_refresh_ms")
        == WebConfig.model_fields["page_refresh_ms"].default
    )
