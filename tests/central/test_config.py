"""Central configuration: defaults, file, environment, and the messages IT sees on mistakes."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from central.config import (
    CentralConfig,
    ConfigError,
    default_data_dir,
    load_config,
    write_default_config,
)
from shared.config_loader import ConfigError as SharedConfigError
from shared.errors import ErrorCode, LtaError

PASSWORD = "pg-S3cret-pw"  # noqa: S105 - a test password, hidden in every output
DB_URL = f"postgresql://lta:{PASSWORD}@db.example.com:5432/lta"
TEMPLATE = resources.files("central").joinpath("config_template.toml")
MIB = 1024 * 1024


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None, environ: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ)
    return caught.value


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose platform defaults point into tmp_path."""
    return {"XDG_DATA_HOME": str(tmp_path / "xdg")}


# --------------------------------------------------------------------------- defaults


def test_defaults_without_file_or_environment(tmp_path: Path, env: dict[str, str]) -> None:
    config = load_config(None, env)
    data_dir = tmp_path / "xdg" / "lta-central"
    assert config.database.url is None
    assert config.database_url_value is None
    assert config.database.pool_min_size == 1
    assert config.database.pool_max_size == 10
    assert config.storage.data_dir == data_dir
    assert config.web.bind == "127.0.0.1:8720"
    assert (config.bind_host, config.bind_port) == ("127.0.0.1", 8720)
    assert config.ingest.max_body_bytes == 32 * MIB
    assert config.ingest.max_uncompressed_bytes == 256 * MIB
    assert config.ingest.max_batch_results == 1000
    assert config.ingest.rate_limit_per_minute == 600
    assert config.ingest.rate_burst == 60
    assert config.logging.level == "INFO"
    assert config.log_dir == data_dir / "logs"
    assert config.embedded_pg_dir == data_dir / "pgdata"


def test_default_data_dir_per_platform(tmp_path: Path) -> None:
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}, "linux") == tmp_path / "lta-central"
    assert default_data_dir({"HOME": str(tmp_path)}, "linux") == (
        tmp_path / ".local" / "share" / "lta-central"
    )
    windows = default_data_dir({"PROGRAMDATA": "D:\\PD"}, "win32")
    assert str(windows).startswith("D:\\PD")
    assert windows.parts[-2:] == ("LaserTrimAnalyzer", "central")


def test_model_constructed_directly_has_defaults() -> None:
    config = CentralConfig()
    assert config.database_url_value is None
    assert config.storage.data_dir == default_data_dir(os.environ)
    assert config.embedded_pg_dir == default_data_dir(os.environ) / "pgdata"


def test_config_is_frozen(env: dict[str, str]) -> None:
    config = load_config(None, env)
    with pytest.raises(ValidationError):
        config.web.bind = "0.0.0.0:1"  # type: ignore[misc]


# --------------------------------------------------------------------------- file values

FULL_FILE = """
[database]
url = "{url}"
pool_min_size = 2
pool_max_size = 20

[storage]
data_dir = "state"

[web]
bind = "0.0.0.0:9000"

[ingest]
max_body_bytes = 1048576
max_uncompressed_bytes = 8388608
max_batch_results = 250
rate_limit_per_minute = 120
rate_burst = 10

[logging]
level = "debug"
"""


def full_file(tmp_path: Path) -> Path:
    return write(tmp_path / "central.toml", FULL_FILE.format(url=DB_URL))


def test_file_values(tmp_path: Path, env: dict[str, str]) -> None:
    config = load_config(full_file(tmp_path), env)
    assert config.database_url_value == DB_URL
    assert config.database.pool_min_size == 2
    assert config.database.pool_max_size == 20
    assert config.storage.data_dir == tmp_path / "state"  # relative to the file
    assert config.log_dir == tmp_path / "state" / "logs"
    assert config.embedded_pg_dir == tmp_path / "state" / "pgdata"
    assert (config.bind_host, config.bind_port) == ("0.0.0.0", 9000)  # noqa: S104
    assert config.ingest.max_body_bytes == MIB
    assert config.ingest.max_uncompressed_bytes == 8 * MIB
    assert config.ingest.max_batch_results == 250
    assert config.ingest.rate_limit_per_minute == 120
    assert config.ingest.rate_burst == 10
    assert config.logging.level == "DEBUG"


@pytest.mark.parametrize("url", ["postgres://h/db", "POSTGRESQL://h/db", "postgresql:///lta"])
def test_accepted_database_urls(tmp_path: Path, env: dict[str, str], url: str) -> None:
    path = write(tmp_path / "central.toml", f'[database]\nurl = "{url}"\n')
    assert load_config(path, env).database_url_value == url


def test_empty_url_means_embedded(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "central.toml", '[database]\nurl = ""\n')
    assert load_config(path, env).database_url_value is None


def test_config_file_named_by_environment(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "central.toml", "[ingest]\nrate_burst = 5\n")
    config = load_config(None, {**env, "LTA_CENTRAL_CONFIG": str(path)})
    assert config.ingest.rate_burst == 5


def test_missing_file_named_by_environment(tmp_path: Path, env: dict[str, str]) -> None:
    missing = tmp_path / "nope.toml"
    message = config_error(None, {**env, "LTA_CENTRAL_CONFIG": str(missing)}).message
    assert str(missing) in message
    assert "LTA_CENTRAL_CONFIG" in message


def test_byte_order_mark_and_windows_path_hint(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "central.toml"
    path.write_bytes(b"\xef\xbb\xbf[ingest]\nrate_burst = 3\n")
    assert load_config(path, env).ingest.rate_burst == 3
    path.write_text('[storage]\ndata_dir = "C:\\LTA"\n', encoding="utf-8")
    message = config_error(path, env).message
    assert "line 2" in message
    assert "single quotes" in message


# --------------------------------------------------------------------------- environment


def test_fixed_environment_names_beat_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    other = "postgres://other:pw@10.0.0.9/lta"
    environ = {
        **env,
        "LTA_CENTRAL_DATABASE_URL": other,
        "LTA_CENTRAL_BIND": "[::1]:8800",
        "LTA_CENTRAL_DATA_DIR": str(tmp_path / "env-data"),
    }
    config = load_config(full_file(tmp_path), environ)
    assert config.database_url_value == other
    assert (config.bind_host, config.bind_port) == ("::1", 8800)
    assert config.storage.data_dir == tmp_path / "env-data"
    assert config.embedded_pg_dir == tmp_path / "env-data" / "pgdata"
    assert config.database.pool_max_size == 20  # untouched file value survives


def test_generic_environment_form_beats_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    environ = {
        **env,
        "LTA_CENTRAL_DATABASE__POOL_MAX_SIZE": "30",
        "LTA_CENTRAL_INGEST__MAX_BODY_BYTES": "2048",
        "LTA_CENTRAL_INGEST__MAX_BATCH_RESULTS": "5",
        "LTA_CENTRAL_INGEST__RATE_LIMIT_PER_MINUTE": "60",
        "LTA_CENTRAL_INGEST__RATE_BURST": "6",
        "LTA_CENTRAL_LOGGING__LEVEL": "warning",
        "LTA_CENTRAL_DATABASE__URL": "",  # empty clears the file's URL: embedded database
    }
    config = load_config(full_file(tmp_path), environ)
    assert config.database.pool_max_size == 30
    assert config.ingest.max_body_bytes == 2048
    assert config.ingest.max_batch_results == 5
    assert config.ingest.rate_limit_per_minute == 60
    assert config.ingest.rate_burst == 6
    assert config.logging.level == "WARNING"
    assert config.database_url_value is None


def test_other_variables_are_ignored(env: dict[str, str]) -> None:
    environ = {**env, "LTA_CENTRAL_SOMETHING": "x", "LTA_AGENT_BIND": "nope", "PATH": "/bin"}
    assert load_config(None, environ) == load_config(None, env)


def test_same_key_from_two_variables_is_an_error(env: dict[str, str]) -> None:
    environ = {**env, "LTA_CENTRAL_BIND": "a:1", "LTA_CENTRAL_WEB__BIND": "b:2"}
    message = config_error(None, environ).message
    assert "LTA_CENTRAL_BIND" in message
    assert "LTA_CENTRAL_WEB__BIND" in message
    assert "web.bind" in message


@pytest.mark.parametrize("name", ["LTA_CENTRAL_WEB__", "LTA_CENTRAL_A__B__C"])
def test_malformed_generic_variable_is_an_error(env: dict[str, str], name: str) -> None:
    message = config_error(None, {**env, name: "1"}).message
    assert name in message
    assert "LTA_CENTRAL_<SECTION>__<KEY>" in message


def test_unknown_key_from_environment(env: dict[str, str]) -> None:
    message = config_error(None, {**env, "LTA_CENTRAL_WEB__PORT": "80"}).message
    assert message.startswith('Unknown config key "web.port" from environment variable')
    assert (
        "known keys in [web]: bind, behind_tls_proxy, max_request_header_bytes, "
        "connection_limit, request_buffer_bytes, max_concurrent_exports." in message
    )


# --------------------------------------------------------------------------- bad values

BAD_VALUES = [
    ("database", "pool_min_size", "0", "at least 1"),
    ("database", "pool_min_size", "51", "at most 50"),
    ("database", "pool_min_size", "true", "not a number"),
    ("database", "pool_max_size", "201", "at most 200"),
    ("database", "pool_max_size", "2.5", "not a whole number"),
    ("storage", "data_dir", '""', "must not be empty"),
    ("web", "bind", '"localhost:99999"', "port must be 1-65535"),
    ("web", "bind", '"localhost"', "port is missing"),
    ("web", "bind", '"::1:8720"', "brackets"),
    ("web", "bind", "8720", "is not text"),
    ("ingest", "max_body_bytes", "0", "at least 1"),
    ("ingest", "max_uncompressed_bytes", '"lots"', "not a whole number"),
    ("ingest", "max_batch_results", "0", "at least 1"),
    ("ingest", "max_batch_results", "1001", "at most 1000"),
    ("ingest", "rate_limit_per_minute", "0", "at least 1"),
    ("ingest", "rate_burst", "-1", "at least 1"),
    ("logging", "level", '"verbose"', "not a log level"),
]


@pytest.mark.parametrize(("section", "key", "value", "reason"), BAD_VALUES)
def test_bad_file_value_names_key_source_value_and_reason(
    tmp_path: Path, env: dict[str, str], section: str, key: str, value: str, reason: str
) -> None:
    path = write(tmp_path / "central.toml", f"[{section}]\n{key} = {value}\n")
    error = config_error(path, env)
    assert error.code is ErrorCode.CONFIG_INVALID
    assert isinstance(error, LtaError)
    assert len(error.problems) == 1
    message = error.message
    assert message.startswith(f"Invalid config: {section}.{key}")
    assert f"(from {path.absolute()})" in message
    assert reason in message
    assert "; expected " in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value", "key"),
    [
        ("LTA_CENTRAL_BIND", "localhost:0", "web.bind"),
        ("LTA_CENTRAL_DATA_DIR", "", "storage.data_dir"),
        ("LTA_CENTRAL_DATABASE_URL", "mysql://u:p@h/db", "database.url"),
        ("LTA_CENTRAL_INGEST__RATE_BURST", "many", "ingest.rate_burst"),
    ],
)
def test_bad_environment_value_names_the_variable(
    env: dict[str, str], name: str, value: str, key: str
) -> None:
    message = config_error(None, {**env, name: value}).message
    assert message.startswith(f"Invalid config: {key}")
    assert f"(from environment variable {name})" in message


def test_pool_max_below_min(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "central.toml", "[database]\npool_min_size = 5\npool_max_size = 3\n")
    message = config_error(path, env).message
    assert message.startswith("Invalid config: database.pool_max_size = 3")
    assert f"(from {path.absolute()})" in message
    assert "at least database.pool_min_size (5)" in message


def test_unknown_key_and_section_in_file(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "central.toml", "[ingest]\nrate = 1\n[db]\nurl = 'x'\n")
    problems = config_error(path, env).problems
    assert problems[0] == (
        f'Unknown config key "ingest.rate" in {path.absolute()}; known keys in [ingest]: '
        "max_body_bytes, max_uncompressed_bytes, max_batch_results, rate_limit_per_minute, "
        "rate_burst."
    )
    assert problems[1].startswith("Unknown config section [db]")
    assert (
        "known sections: [database], [storage], [web], [ingest], [login], [alarms], [logging]"
        in problems[1]
    )


# --------------------------------------------------------------------------- the database URL


def test_database_url_never_shown(tmp_path: Path, env: dict[str, str]) -> None:
    config = load_config(full_file(tmp_path), env)
    for text in (repr(config), str(config), repr(config.database), config.model_dump_json()):
        assert PASSWORD not in text
    assert PASSWORD not in str(config.model_dump())


@pytest.mark.parametrize(
    "bad_url",
    [f"mysql://lta:{PASSWORD}@db/lta", f"{PASSWORD}@db/lta", f"http://x:{PASSWORD}@db"],
)
def test_bad_database_url_error_hides_the_value(
    tmp_path: Path, env: dict[str, str], bad_url: str
) -> None:
    path = write(tmp_path / "central.toml", f'[database]\nurl = "{bad_url}"\n')
    error = config_error(path, env)
    assert error.message.startswith("Invalid config: database.url = <hidden>")
    assert "postgresql://" in error.message
    for text in (error.message, str(error), repr(error)):
        assert PASSWORD not in text
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_bad_database_url_from_environment_is_hidden(env: dict[str, str]) -> None:
    environ = {**env, "LTA_CENTRAL_DATABASE_URL": f"mysql://u:{PASSWORD}@h/db"}
    message = config_error(None, environ).message
    assert "<hidden>" in message
    assert PASSWORD not in message


def test_database_url_of_wrong_type_is_hidden(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "central.toml", "[database]\nurl = 123456789\n")
    message = config_error(path, env).message
    assert "123456789" not in message
    assert "<hidden>" in message


def test_database_section_that_is_not_a_table_is_hidden(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = write(tmp_path / "central.toml", f'database = "{DB_URL}"\n')
    message = config_error(path, env).message
    assert message.startswith("Invalid config: database = <hidden>")
    assert PASSWORD not in message


def test_other_errors_do_not_leak_the_url(tmp_path: Path, env: dict[str, str]) -> None:
    environ = {**env, "LTA_CENTRAL_DATABASE_URL": DB_URL, "LTA_CENTRAL_BIND": "nope"}
    path = write(tmp_path / "central.toml", f'[database]\nurll = "{DB_URL}"\n')
    error = config_error(path, environ)
    assert len(error.problems) == 2
    assert PASSWORD not in str(error)


# --------------------------------------------------------------------------- template


def test_config_error_is_the_shared_type() -> None:
    assert ConfigError is SharedConfigError


def test_template_as_is_gives_the_defaults(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path / "central.toml", TEMPLATE.read_text(encoding="utf-8"))
    assert load_config(path, env) == load_config(None, env)


def test_template_mentions_every_key_and_fixed_variable() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    for section, field in CentralConfig.model_fields.items():
        assert f"[{section}]" in text
        model = field.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        for key in model.model_fields:
            assert f"# {key} = " in text, key
    for name in (
        "LTA_CENTRAL_DATABASE_URL",
        "LTA_CENTRAL_BIND",
        "LTA_CENTRAL_DATA_DIR",
        "LTA_CENTRAL_CONFIG",
    ):
        assert name in text


def test_template_examples_validate_when_uncommented(tmp_path: Path, env: dict[str, str]) -> None:
    """Uncommenting every example must give a valid file with the documented defaults."""
    lines = []
    for line in TEMPLATE.read_text(encoding="utf-8").splitlines():
        example = re.match(r"^# ([a-z_]+ = .*)$", line)
        lines.append(example.group(1) if example else line)
    config = load_config(write(tmp_path / "central.toml", "\n".join(lines)), env)
    assert config.database_url_value is not None
    assert config.database_url_value.startswith("postgresql://")
    defaults = load_config(None, env)
    assert config.ingest == defaults.ingest
    assert config.web == defaults.web
    assert config.database.pool_max_size == defaults.database.pool_max_size


def test_write_default_config(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "etc" / "central.toml"
    write_default_config(path)
    assert path.read_text(encoding="utf-8") == TEMPLATE.read_text(encoding="utf-8")
    assert load_config(path, env) == load_config(None, env)


def test_write_default_config_refuses_to_overwrite(tmp_path: Path) -> None:
    path = write(tmp_path / "central.toml", f'[database]\nurl = "{DB_URL}"\n')
    with pytest.raises(ConfigError, match="already exists"):
        write_default_config(path)
    assert PASSWORD in path.read_text(encoding="utf-8")


def test_docs_describe_every_central_key_and_variable() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    text = docs.read_text(encoding="utf-8")
    central = text[text.index("# Central service configuration") :]
    for section, field in CentralConfig.model_fields.items():
        assert f"### `[{section}]`" in central
        model = field.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        for key in model.model_fields:
            assert f"`{key}`" in central, key
    for name in ("LTA_CENTRAL_DATABASE_URL", "LTA_CENTRAL_BIND", "LTA_CENTRAL_DATA_DIR"):
        assert name in central


def test_docs_example_validates(tmp_path: Path, env: dict[str, str]) -> None:
    """The central example in docs/config.md is what IT copies; it must stay valid."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    text = docs.read_text(encoding="utf-8")
    match = re.search(r"## Central example\n\n```toml\n(.*?)```", text, re.S)
    assert match is not None
    config = load_config(write(tmp_path / "central.toml", match.group(1)), env)
    assert config.database.pool_max_size == 20
    assert config.ingest.rate_limit_per_minute == 300
    assert config.bind_port == 8720
