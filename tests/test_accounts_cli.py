"""`mapserver user …` and `mapserver token create --grid` on both backends: each change written with its audit
record, refusals that say what is wrong and write nothing, sessions ended by the changes that must end them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mapserver.audit import cli_actor
from mapserver.auth import hash_token
from mapserver.cli import main
from mapserver.config import PasswordHashSettings
from mapserver.passwords import PasswordHasher
from mapserver.store import Store
from tests.accounts_data import BUILDING, NORTH, NORTH_COMPOUND, PASSWORD, load_grids

CHEAP = PasswordHashSettings(time_cost=1, memory_kib=8192, parallelism=1)


@pytest.fixture
def cli(store: Store, tmp_path: Path):
    """Run ``mapserver …`` against the test's store (with grids), hashing passwords cheaply."""
    load_grids(store)
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\naccounts:\n  password_hash: {{time_cost: 1, memory_kib: 8192, "
                      "parallelism: 1}\n", encoding="utf-8")

    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(main, ["--config", str(config), *args], input=input)

    return run


def add(cli, name: str, *options: str, password: str = PASSWORD):
    return cli("user", "add", name, *options, "--password-stdin", input=password + "\n")


def begin_session(store: Store, name: str) -> None:
    store.sessions.begin(id_hash=uuid.uuid4().hex, account=name, csrf_token="c", now=datetime.now(UTC),
                         remote_addr=None)


def verifies(store: Store, name: str, password: str) -> bool:
    return PasswordHasher(CHEAP).verify(store.accounts.get(name, with_hash=True).password_hash, password)


def test_user_add_from_stdin_writes_the_person_and_one_record(cli, store):
    result = add(cli, "zhangwei", "--role", "dispatcher", "--grid", NORTH.code, "--display-name", "张伟")
    assert result.exit_code == 0, result.output
    assert f"added zhangwei (dispatcher, grid {NORTH.code})" in result.output and PASSWORD not in result.output
    account = store.accounts.get("zhangwei")
    assert (account.role, account.grid_code, account.display_name, account.enabled) == (
        "dispatcher", NORTH.code, "张伟", True)
    assert verifies(store, "zhangwei", PASSWORD)
    records, total = store.audit.records()
    assert total == 1 and (records[0].actor, records[0].action, records[0].target) == (
        cli_actor().name, "account.create", "zhangwei")
    assert records[0].detail == {"role": "dispatcher", "grid": NORTH.code, "display_name": "张伟"}


def test_user_add_asks_twice_at_a_hidden_prompt(cli, store):
    result = cli("user", "add", "liming", "--role", "field", input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n"
                                                                  f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and PASSWORD not in result.output
    assert verifies(store, "liming", PASSWORD) and store.accounts.get("liming").grid_code is None


@pytest.mark.parametrize(("options", "password", "exit_code", "words"), [
    (("--role", "root"), PASSWORD, 2, "'root' is not one of"),
    (("--role", "field", "--grid", "nowhere"), PASSWORD, 1, "no grid or division has the code 'nowhere'"),
    (("--role", "field", "--grid", BUILDING.code), PASSWORD, 1, "building"),
    (("--role", "field"), "short", 1, "too short"),
    (("--role", "field"), "QwertyUiop", 1, "commonly guessed"),
    (("--role", "field"), "liming2026!!", 1, "account name"),
    (("--role", "field", "--display-name", "a\tb"), PASSWORD, 1, "control characters"),
])
def test_a_refused_user_add_says_what_is_wrong_and_writes_nothing(cli, store, options, password, exit_code, words):
    result = add(cli, "liming", *options, password=password)
    assert result.exit_code == exit_code and words in result.output, result.output
    assert "Traceback" not in result.output
    assert store.accounts.list() == [] and store.audit.records()[1] == 0


def test_a_taken_name_or_empty_stdin_is_refused(cli, store):
    assert add(cli, "liming", "--role", "field").exit_code == 0
    again = add(cli, "liming", "--role", "admin")
    assert again.exit_code == 1 and "already exists" in again.output
    empty = cli("user", "add", "wangfang", "--role", "field", "--password-stdin", input="")
    assert empty.exit_code == 1 and "standard input is empty" in empty.output
    assert [a.name for a in store.accounts.list()] == ["liming"] and store.audit.records()[1] == 1


def test_user_list_is_a_readable_table(cli, store):
    add(cli, "zhangwei", "--role", "dispatcher", "--grid", NORTH.code, "--display-name", "张伟")
    add(cli, "chief", "--role", "viewer")
    cli("user", "disable", "chief")
    lines = cli("user", "list").output.splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "GRID", "ENABLED", "DISPLAY", "NAME"]
    assert lines[1].split() == ["chief", "viewer", "(whole", "store)", "no"]
    assert lines[2].split() == ["zhangwei", "dispatcher", NORTH.code, "yes", "张伟"]
    assert lines[1].index("viewer") == lines[2].index("dispatcher")  # columns line up


def test_user_disable_ends_the_sessions_and_enable_lets_them_back(cli, store):
    add(cli, "liming", "--role", "field")
    begin_session(store, "liming")
    result = cli("user", "disable", "liming")
    assert result.exit_code == 0 and "sessions are ended" in result.output
    assert not store.accounts.get("liming").enabled and store.sessions.count("liming") == 0
    assert cli("user", "enable", "liming").exit_code == 0 and store.accounts.get("liming").enabled
    assert [r.action for r in store.audit.records()[0]] == ["account.enable", "account.disable", "account.create"]
    unknown = cli("user", "disable", "nobody")
    assert unknown.exit_code == 1 and "no account named 'nobody'" in unknown.output


def test_user_set_password_checks_the_rules_and_ends_the_sessions(cli, store):
    add(cli, "liming", "--role", "field")
    begin_session(store, "liming")
    weak = cli("user", "set-password", "liming", "--password-stdin", input="12345678\n")
    assert weak.exit_code == 1 and "too short" in weak.output
    assert verifies(store, "liming", PASSWORD) and store.sessions.count("liming") == 1
    result = cli("user", "set-password", "liming", "--password-stdin", input="another long phrase\n")
    assert result.exit_code == 0, result.output
    assert verifies(store, "liming", "another long phrase") and store.sessions.count("liming") == 0
    assert store.audit.records()[0][0].action == "account.password" and store.audit.records()[0][0].detail == {}
    unknown = cli("user", "set-password", "nobody", "--password-stdin", input="another long phrase\n")
    assert unknown.exit_code == 1 and "no account named 'nobody'" in unknown.output


def test_user_set_role_and_set_grid(cli, store):
    add(cli, "liming", "--role", "field", "--grid", NORTH.code)
    begin_session(store, "liming")
    assert cli("user", "set-role", "liming", "boss").exit_code == 2
    assert cli("user", "set-role", "liming", "dispatcher").exit_code == 0
    assert store.accounts.get("liming").role == "dispatcher" and store.sessions.count("liming") == 0
    assert cli("user", "set-grid", "liming", NORTH_COMPOUND.code).exit_code == 0
    assert store.accounts.get("liming").grid_code == NORTH_COMPOUND.code
    assert cli("user", "set-grid", "liming", "--whole").exit_code == 0
    assert store.accounts.get("liming").grid_code is None
    for args in (("liming",), ("liming", NORTH.code, "--whole")):
        refused = cli("user", "set-grid", *args)
        assert refused.exit_code == 2 and "give either a grid CODE or --whole" in refused.output
    building = cli("user", "set-grid", "liming", BUILDING.code)
    assert building.exit_code == 1 and "building" in building.output
    assert store.accounts.get("liming").grid_code is None
    records = store.audit.records()[0]
    assert [(r.action, r.detail) for r in records[:3]] == [
        ("account.grid", {"grid": None, "was": NORTH_COMPOUND.code}),
        ("account.grid", {"grid": NORTH_COMPOUND.code, "was": NORTH.code}),
        ("account.role", {"role": "dispatcher", "was": "field"})]


def test_token_create_takes_a_grid_and_token_list_shows_it(cli, store):
    created = cli("token", "create", "--role", "field", "--name", "north-phone", "--grid", NORTH.code)
    assert created.exit_code == 0, created.output
    assert store.tokens.by_hash(hash_token(created.output.strip())).grid_code == NORTH.code
    assert cli("token", "create", "--role", "viewer", "--name", "wall-1").exit_code == 0
    listed = cli("token", "list").output.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [["north-phone", "field", NORTH.code],
                                                          ["wall-1", "viewer", "-"]]
    assert store.audit.records(action="token.create")[0][-1].detail == {"role": "field", "grid": NORTH.code}
    for grid in ("nowhere", BUILDING.code):
        refused = cli("token", "create", "--role", "viewer", "--name", "t", "--grid", grid)
        assert refused.exit_code == 1 and grid in refused.output
    assert len(store.tokens.live()) == 2 and store.audit.records()[1] == 2
