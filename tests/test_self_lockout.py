"""No administrator locks themselves out, on both backends: disabling oneself, taking away one's own admin role or
narrowing one's own jurisdiction is refused (409, nothing written, no audit record) through the core and the API;
another administrator, or the command line, may."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mapserver import account_admin, create_app
from mapserver.account_admin import SelfLockout
from mapserver.audit import Actor
from mapserver.cli import main
from mapserver.store import Store
from tests.accounts_data import NORTH, NORTH_COMPOUND, STREET, cheap_settings, load_grids
from tests.logins import add_person, json_login

ACTOR = Actor(name="boss", role="admin")


@pytest.fixture
def people(store: Store) -> Store:
    load_grids(store)
    add_person(store, "boss", role="admin")
    add_person(store, "street.admin", role="admin", grid_code=STREET.code)
    add_person(store, "north.admin", role="admin", grid_code=NORTH.code)
    return store


def snapshot(store: Store, name: str) -> tuple:
    account = store.accounts.get(name)
    return account.role, account.grid_code, account.enabled, store.audit.records()[1]


REFUSED = [
    ("boss", {"enabled": False}, "disable"),
    ("boss", {"role": "dispatcher"}, "role"),
    ("boss", {"grid_code": STREET.code}, "grid"),  # the whole store to one street
    ("street.admin", {"grid_code": NORTH.code}, "grid"),  # a street to one of its communities
    ("north.admin", {"grid_code": NORTH_COMPOUND.code}, "grid"),
    ("north.admin", {"role": "viewer", "display_name": "x"}, "role"),  # refused whole: the name stays too
]


@pytest.mark.parametrize(("name", "change", "what"), REFUSED)
def test_an_admin_cannot_lock_themselves_out(people, name, change, what):
    before = snapshot(people, name)
    display = people.accounts.get(name).display_name
    with pytest.raises(SelfLockout) as raised:
        account_admin.update(people, name, actor=ACTOR, by=name, **change)
    assert raised.value.status == 409 and raised.value.what == what
    assert "your own" in raised.value.detail
    assert snapshot(people, name) == before and people.accounts.get(name).display_name == display


def test_an_admin_may_change_their_own_display_name_widen_and_keep_what_they_have(people):
    account_admin.update(people, "north.admin", actor=ACTOR, by="north.admin", display_name="北关管理员",
                         role="admin", enabled=True, grid_code=NORTH.code)
    account_admin.update(people, "north.admin", actor=ACTOR, by="north.admin", grid_code=STREET.code)
    account_admin.update(people, "street.admin", actor=ACTOR, by="street.admin", grid_code=None)
    assert people.accounts.get("north.admin").grid_code == STREET.code
    assert people.accounts.get("street.admin").grid_code is None
    assert people.accounts.get("north.admin").display_name == "北关管理员"


@pytest.mark.parametrize(("name", "change", "what"), REFUSED[:5])
def test_another_admin_or_the_command_line_may(people, name, change, what):
    other = "north.admin" if name == "boss" else "boss"
    before = snapshot(people, name)
    account_admin.update(people, name, actor=ACTOR, by=other, **change)
    after = snapshot(people, name)
    assert after[:3] != before[:3] and after[3] == before[3] + 1
    account_admin.update(people, "boss", actor=ACTOR, by=None, role="viewer")  # the command line: no person acts
    assert people.accounts.get("boss").role == "viewer"


@pytest.fixture
def app(people: Store):
    flask_app = create_app(cheap_settings(people), store=people)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.mark.parametrize(("body", "param"), [({"enabled": False}, "enabled"), ({"role": "viewer"}, "role"),
                                             ({"grid": NORTH.code}, "grid")])
def test_the_api_refuses_it_with_409_and_says_why(client, people, body, param):
    login = json_login(client, "boss")
    assert login.status_code == 200, login.get_json()
    before = snapshot(people, "boss")
    resp = client.patch("/api/accounts/boss", json=body, headers={"X-CSRF-Token": login.get_json()["csrf_token"]})
    assert resp.status_code == 409, resp.get_json()
    problem = resp.get_json()
    assert problem["param"] == param and "your own" in problem["detail"]
    assert snapshot(people, "boss") == before
    # Another administrator may.
    client.post("/logout", headers={"X-CSRF-Token": login.get_json()["csrf_token"]})
    other = json_login(client, "street.admin").get_json()["csrf_token"]
    resp = client.patch("/api/accounts/north.admin", json=body | {"grid": STREET.code} if param == "grid" else body,
                        headers={"X-CSRF-Token": other})
    assert resp.status_code == 200, resp.get_json()


def test_the_command_line_may_disable_the_last_admin(people, tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {people.url}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "user", "disable", "boss"])
    assert result.exit_code == 0, result.output
    assert people.accounts.get("boss").enabled is False
