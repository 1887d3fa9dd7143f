"""config.yaml: typed, checked at start, with environment substitution and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapserver.config import DEFAULT_CONFIG, AccountSettings, ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_loads_with_defaults():
    settings = load_settings(DEFAULT_CONFIG, env={})
    assert settings.store.url.startswith("sqlite:////") and settings.store.url.endswith("data/mapserver.db")
    assert settings.server.port == 8000
    assert settings.source == str(DEFAULT_CONFIG)


def test_the_shipped_accounts_section_states_the_defaults():
    assert load_settings(DEFAULT_CONFIG, env={}).accounts == AccountSettings()
    assert "accounts:" in DEFAULT_CONFIG.read_text(encoding="utf-8")


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, "server:\n  prot: 8000\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "server.prot" in str(caught.value) and str(path) in str(caught.value)


def test_unknown_section_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'servr'"):
        load_settings(write(tmp_path, "servr: {}\n"), env={})


def test_wrong_type_names_key_and_file(tmp_path):
    path = write(tmp_path, "server:\n  port: eighty\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "server.port" in str(caught.value) and str(path) in str(caught.value) and "eighty" in str(caught.value)


def test_out_of_range_value(tmp_path):
    with pytest.raises(ConfigError, match=r"server\.workers"):
        load_settings(write(tmp_path, "server:\n  workers: 0\n"), env={})


def test_server_kind_is_gunicorn_or_uwsgi(tmp_path):
    assert load_settings(write(tmp_path, "server:\n  kind: uwsgi\n"), env={}).server.kind == "uwsgi"
    with pytest.raises(ConfigError, match=r"server\.kind.*gunicorn.*uwsgi"):
        load_settings(write(tmp_path, "server:\n  kind: waitress\n"), env={})


def test_env_substitution_with_default(tmp_path):
    path = write(tmp_path, "server:\n  port: ${PORT:-8123}\n  host: ${HOST}\n")
    assert load_settings(path, env={"HOST": "0.0.0.0"}).server.port == 8123
    assert load_settings(path, env={"HOST": "0.0.0.0", "PORT": "9000"}).server.port == 9000


def test_env_reference_without_value_or_default(tmp_path):
    with pytest.raises(ConfigError, match=r"server\.host.*\$\{HOST\}"):
        load_settings(write(tmp_path, "server:\n  host: ${HOST}\n"), env={})


def test_mapserver_store_overrides_the_url(tmp_path):
    path = write(tmp_path, "store:\n  url: sqlite:///a.db\n")
    assert load_settings(path, env={}).store.url == f"sqlite:///{tmp_path / 'a.db'}"
    pg = "postgresql://u:pw@db:5432/grid"
    assert load_settings(path, env={"MAPSERVER_STORE": pg}).store.url == pg


def test_mapserver_config_points_at_another_file(tmp_path):
    path = write(tmp_path, "server:\n  port: 8765\n")
    assert load_settings(env={"MAPSERVER_CONFIG": str(path)}).server.port == 8765


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.yaml", env={})
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "server: [unclosed\n"), env={})
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(write(tmp_path, "- a\n- b\n"), env={})


def test_python_tags_are_not_executed(tmp_path):
    path = write(tmp_path, "server: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path, env={})


def test_the_shipped_scorecards_section_states_the_defaults():
    from mapserver.config import ScorecardSettings

    assert load_settings(DEFAULT_CONFIG, env={}).scorecards == ScorecardSettings()
    assert "scorecards:" in DEFAULT_CONFIG.read_text(encoding="utf-8")


def test_a_store_url_of_several_hosts_must_ask_for_the_primary(tmp_path):
    hosts = "postgresql://ms@db1:5432,db2:5432/mapserver"
    with pytest.raises(ConfigError, match="target_session_attrs=read-write"):
        load_settings(write(tmp_path, f"store:\n  url: '{hosts}'\n"))
    with pytest.raises(ConfigError, match="target_session_attrs=read-write"):
        load_settings(write(tmp_path, f"store:\n  url: '{hosts}?target_session_attrs=any'\n"))
    settings = load_settings(write(tmp_path, f"store:\n  url: '{hosts}?target_session_attrs=read-write'\n"))
    assert settings.store.read_url == []


def test_read_url_is_one_url_or_several_and_needs_postgis(tmp_path):
    primary = "postgresql://ms@db1:5432,db2:5432/mapserver?target_session_attrs=read-write"
    one = load_settings(write(tmp_path, f"store:\n  url: '{primary}'\n  read_url: postgresql://ms@db2/mapserver\n"))
    assert one.store.read_url == ["postgresql://ms@db2/mapserver"]
    several = load_settings(write(tmp_path, f"store:\n  url: '{primary}'\n  read_url: [postgresql://ms@db2/m, "
                                            "postgresql://ms@db3/m]\n  max_replica_lag_s: 2.5\n"))
    assert several.store.read_url == ["postgresql://ms@db2/m", "postgresql://ms@db3/m"]
    assert several.store.max_replica_lag_s == 2.5
    empty = load_settings(write(tmp_path, "store:\n  url: sqlite:///x.db\n  read_url: ${MAPSERVER_READ_STORE:-}\n"),
                          env={})
    assert empty.store.read_url == []
    with pytest.raises(ConfigError, match=r"needs store\.url to be PostGIS"):
        load_settings(write(tmp_path, "store:\n  url: sqlite:///x.db\n  read_url: postgresql://ms@db2/m\n"))
    with pytest.raises(ConfigError, match="not a postgresql"):
        load_settings(write(tmp_path, f"store:\n  url: '{primary}'\n  read_url: sqlite:///copy.db\n"))
