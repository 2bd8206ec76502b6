"""The shared config machinery, on a small model of its own (the programs' tests cover the rest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import Field, SecretStr

from shared.config_loader import ConfigError, ConfigSpec, load_config, write_default_config
from shared.config_schema import is_secret, list_keys, path_keys, table_keys, walk
from shared.config_values import ConfigSection, LoggingConfig, Number, default_data_dir

SECRET = "pa55-word-value"  # noqa: S105 - a test secret, hidden in every output


class Credentials(ConfigSection):
    user: str = "u"
    password: SecretStr | None = None


class Service(ConfigSection):
    folders: list[Path] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)
    cache: Path | None = None
    timeout_s: Number = Field(default=1.0, gt=0)
    login: Credentials = Field(default_factory=Credentials)
    extras: dict[str, Credentials] = Field(default_factory=dict)


class Settings(ConfigSection):
    service: Service = Field(default_factory=Service)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)


SPEC = ConfigSpec(
    model=Settings,
    env_prefix="LTA_TEST_",
    config_env="LTA_TEST_CONFIG",
    fixed_env={"LTA_TEST_FOLDERS": ("service", "folders")},
)


def problems(path: Path | None, environ: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        load_config(SPEC, path, environ)
    return caught.value.problems


def test_keys_are_read_from_the_type_hints() -> None:
    assert path_keys(Settings) == {("service", "folders"), ("service", "cache")}
    assert list_keys(Settings) == {("service", "folders"), ("service", "names")}
    assert table_keys(Settings) == {("service", "extras")}


def test_secrets_are_found_at_any_depth() -> None:
    assert is_secret(Settings, ("service", "login", "password"))
    assert is_secret(Settings, ("service", "login"))  # a table holding a secret
    assert is_secret(Settings, ("service",))
    assert is_secret(Settings, ("service", "extras", "x", "password"))
    assert not is_secret(Settings, ("service", "login", "user"))
    assert not is_secret(Settings, ("service", "timeout_s"))
    assert not is_secret(Settings, ("logging",))


def test_walk_names_table_entries_as_written() -> None:
    key, pattern, model = walk(Settings, ("service", "extras", "a b", "user"))
    assert key == 'service.extras."a b".user'
    assert pattern == "service.extras.*.user"
    assert model is None
    assert walk(Settings, ("service", "folders", 1)) == (
        "service.folders[1]",
        "service.folders",
        None,
    )


def test_relative_paths_follow_the_file_and_lists_split_per_form(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[service]\ncache = "c"\nfolders = ["a", "/abs"]\n', encoding="utf-8")
    settings = load_config(SPEC, path, {})
    assert settings.service.cache == tmp_path / "c"
    assert settings.service.folders == [tmp_path / "a", Path("/abs")]
    environ = {"LTA_TEST_FOLDERS": f"x,1{os.pathsep}y", "LTA_TEST_SERVICE__NAMES": "p, q"}
    settings = load_config(SPEC, path, environ)
    assert settings.service.folders == [Path("x,1"), Path("y")]  # like PATH: commas are data
    assert settings.service.names == ["p", "q"]


def test_nested_secret_is_hidden_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f'[service.login]\npassword = ["{SECRET}"]\n', encoding="utf-8")
    (message,) = problems(path, {})
    assert message.startswith("Invalid config: service.login.password = <hidden>")
    assert SECRET not in message


def test_environment_messages_use_the_spec() -> None:
    (table,) = problems(None, {"LTA_TEST_SERVICE__EXTRAS__A": "1"})
    assert 'use tables like [service.extras."NAME"] in the config file' in table
    (malformed,) = problems(None, {"LTA_TEST_A__B__C": "1"})
    assert "like LTA_TEST_SERVICE__FOLDERS." in malformed  # the first key, when none is given


def test_missing_template_resource_is_not_written(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_default_config(tmp_path / "x.toml", "shared", "no_such_template.toml")
    assert not (tmp_path / "x.toml").exists()


def test_platform_data_dirs_differ_per_program(tmp_path: Path) -> None:
    environ = {"XDG_DATA_HOME": str(tmp_path)}
    assert default_data_dir("agent", environ, "linux") == tmp_path / "lta-agent"
    assert default_data_dir("central", environ, "linux") == tmp_path / "lta-central"
