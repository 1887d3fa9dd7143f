"""Account administration over HTTP (/api/accounts) and tokens with a jurisdiction (/api/tokens), on both backends:
create, list, read, change, reset a password; the rules and problems; the audit trail; sessions ended on disable;
an administrator bound to a community kept to it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from mapserver import create_app
from mapserver.auth import hash_token, new_token
from mapserver.passwords import PasswordHasher
from mapserver.store import Store
from tests.accounts_data import NORTH, NORTH_COMPOUND, PASSWORD, SOUTH, SOUTH_COMPOUND, cheap_settings, load_grids


@pytest.fixture
def app(store: Store):
    load_grids(store)
    flask_app = create_app(cheap_settings(store), store=store)
    flask_app.config["TESTING"] = True
    return flask_app


def bearer(store: Store, role: str, grid: str | None = None) -> dict[str, str]:
    secret = new_token()
    store.tokens.add(name=f"{role}-{grid or 'all'}-{uuid.uuid4().hex[:6]}", role=role, token_hash=hash_token(secret),
                     grid_code=grid)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def admin(store):
    return bearer(store, "admin")


@pytest.fixture
def north_admin(store):
    """An administrator of the north community."""
    return bearer(store, "admin", NORTH.code)


def create(client, headers, account, **extra):
    body = {"name": account, "role": "field", "password": PASSWORD, **extra}
    return client.post("/api/accounts", json=body, headers=headers)


def begin_session(store: Store, name: str) -> None:
    store.sessions.begin(id_hash=uuid.uuid4().hex, account=name, csrf_token="c", now=datetime.now(UTC),
                         remote_addr="10.0.0.9")


# --- create, read, list ------------------------------------------------------------------------------------------


def test_an_admin_creates_a_person_who_can_then_be_read_and_listed(client, admin, store, app):
    resp = create(client, admin, "zhangwei", role="dispatcher", grid=NORTH.code, display_name="张伟")
    assert resp.status_code == 201, resp.get_json()
    made = resp.get_json()
    assert resp.headers["Location"] == "/api/accounts/zhangwei"
    assert {k: made[k] for k in ("name", "role", "grid", "display_name", "enabled", "disabled_at")} == {
        "name": "zhangwei", "role": "dispatcher", "grid": NORTH.code, "display_name": "张伟", "enabled": True,
        "disabled_at": None}
    assert "password_hash" not in made and "argon2" not in str(made) and PASSWORD not in str(made)
    assert client.get("/api/accounts/zhangwei", headers=admin).get_json() == made
    assert [a["name"] for a in client.get("/api/accounts", headers=admin).get_json()["accounts"]] == ["zhangwei"]
    stored = store.accounts.get("zhangwei", with_hash=True)
    hasher = PasswordHasher(app.extensions["mapserver"].settings.accounts.password_hash)
    assert stored.password_hash.startswith("$argon2id$") and hasher.verify(stored.password_hash, PASSWORD)
    records, total = store.audit.records(action="account.create")
    assert total == 1 and records[0].target == "zhangwei" and records[0].role == "admin"
    assert records[0].detail == {"role": "dispatcher", "grid": NORTH.code, "display_name": "张伟"}


def test_a_person_without_a_grid_works_over_the_whole_store(client, admin):
    resp = create(client, admin, "chief", role="viewer")
    assert resp.status_code == 201 and resp.get_json()["grid"] is None


@pytest.mark.parametrize(("body", "status", "param", "words"), [
    ({"password": "short1"}, 422, "password", "too short"),
    ({"password": "Password123"}, 422, "password", "commonly guessed"),
    ({"password": "liming-is-great"}, 422, "password", "account name"),
    ({"role": "root"}, 422, "role", "'root'"),
    ({"grid": "nowhere"}, 422, "grid", "'nowhere'"),
    ({"grid": "S1-C1-Y1-B1"}, 422, "grid", "building"),
    ({"grid": "S1-C1-X1"}, 422, "grid", "'S1-C1-X1'"),  # a special grid is no jurisdiction
    ({"name": "li ming"}, 422, "name", "spaces"),
    ({"display_name": "x" * 101}, 422, "display_name", "100"),
    ({"display_name": "a\nb"}, 422, "display_name", "line breaks"),
    ({"role": 7}, 400, "role", "string"),
    ({"grid": 7}, 400, "grid", "grid code"),
    ({"extra": 1}, 400, "extra", "unknown field"),
])
def test_a_refused_creation_says_why_and_writes_nothing(client, admin, store, body, status, param, words):
    resp = create(client, admin, "liming", **body)
    assert resp.status_code == status, resp.get_json()
    problem = resp.get_json()
    assert resp.mimetype == "application/problem+json" and problem["param"] == param and words in problem["detail"]
    assert store.accounts.list() == [] and store.audit.records(action="account.create")[1] == 0


def test_a_creation_without_a_required_field_names_it(client, admin, store):
    resp = client.post("/api/accounts", json={"name": "liming", "role": "field"}, headers=admin)
    assert resp.status_code == 422 and resp.get_json()["param"] == "password"


def test_a_taken_name_is_409_even_when_disabled(client, admin, store):
    assert create(client, admin, "liming").status_code == 201
    assert client.patch("/api/accounts/liming", json={"enabled": False}, headers=admin).status_code == 200
    resp = create(client, admin, "liming")
    assert resp.status_code == 409 and "already exists" in resp.get_json()["detail"]


def test_an_unknown_account_is_404(client, admin):
    for method, path, body in (("GET", "/api/accounts/nobody", None), ("PATCH", "/api/accounts/nobody", {}),
                               ("PUT", "/api/accounts/nobody/password", {"password": PASSWORD})):
        resp = client.open(path, method=method, json=body, headers=admin)
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json", (method, path)


@pytest.mark.parametrize("role", ["viewer", "operator", "dispatcher", "liaison", "field"])
def test_only_an_admin_administers_accounts(client, store, role):
    headers = bearer(store, role)
    assert client.get("/api/accounts", headers=headers).status_code == 403
    assert create(client, headers, "liming").status_code == 403
    assert store.accounts.list() == []


# --- changes -----------------------------------------------------------------------------------------------------


def test_a_patch_changes_what_it_names_each_with_its_record(client, admin, store):
    create(client, admin, "liming", role="field", grid=NORTH_COMPOUND.code)
    resp = client.patch("/api/accounts/liming", json={"role": "dispatcher", "grid": None, "display_name": "李明"},
                        headers=admin)
    assert resp.status_code == 200, resp.get_json()
    after = resp.get_json()
    assert (after["role"], after["grid"], after["display_name"]) == ("dispatcher", None, "李明")
    records, _ = store.audit.records(target="liming")
    assert {r.action: r.detail for r in records} == {
        "account.create": {"role": "field", "grid": NORTH_COMPOUND.code, "display_name": ""},
        "account.role": {"role": "dispatcher", "was": "field"},
        "account.grid": {"grid": None, "was": NORTH_COMPOUND.code},
        "account.display_name": {"display_name": "李明", "was": ""},
    }


def test_a_patch_with_the_present_values_writes_nothing(client, admin, store):
    create(client, admin, "liming", role="field", grid=NORTH.code)
    begin_session(store, "liming")
    resp = client.patch("/api/accounts/liming", json={"role": "field", "grid": NORTH.code, "enabled": True},
                        headers=admin)
    assert resp.status_code == 200
    assert store.audit.records()[1] == 1 and store.sessions.count("liming") == 1


def test_a_refused_patch_changes_nothing(client, admin, store):
    create(client, admin, "liming", role="field")
    resp = client.patch("/api/accounts/liming", json={"role": "dispatcher", "grid": "nowhere"}, headers=admin)
    assert resp.status_code == 422 and resp.get_json()["param"] == "grid"
    assert store.accounts.get("liming").role == "field" and store.audit.records()[1] == 1
    for body, param in (({"enabled": "no"}, "enabled"), ({"role": None}, "role"), ({"name": "x"}, "name")):
        assert client.patch("/api/accounts/liming", json=body, headers=admin).get_json()["param"] == param


def test_disabling_ends_the_persons_sessions_at_once(client, admin, store):
    create(client, admin, "liming")
    begin_session(store, "liming")
    begin_session(store, "liming")
    assert store.sessions.count("liming") == 2
    resp = client.patch("/api/accounts/liming", json={"enabled": False}, headers=admin)
    assert resp.status_code == 200 and resp.get_json()["enabled"] is False and resp.get_json()["disabled_at"]
    assert store.sessions.count("liming") == 0
    assert store.audit.records(target="liming")[0][0].action == "account.disable"
    again = client.patch("/api/accounts/liming", json={"enabled": True}, headers=admin)
    assert again.get_json()["enabled"] is True
    assert store.audit.records(target="liming")[0][0].action == "account.enable"


@pytest.mark.parametrize("body", [{"role": "viewer"}, {"grid": SOUTH.code}])
def test_a_new_role_or_grid_ends_the_sessions(client, admin, store, body):
    create(client, admin, "liming", grid=NORTH.code)
    begin_session(store, "liming")
    assert client.patch("/api/accounts/liming", json=body, headers=admin).status_code == 200
    assert store.sessions.count("liming") == 0


def test_an_admin_resets_a_password(client, admin, store, app):
    create(client, admin, "liming")
    begin_session(store, "liming")
    before = store.accounts.get("liming", with_hash=True)
    weak = client.put("/api/accounts/liming/password", json={"password": "12345678"}, headers=admin)
    assert weak.status_code == 422 and weak.get_json()["param"] == "password"
    assert store.sessions.count("liming") == 1
    resp = client.put("/api/accounts/liming/password", json={"password": "another long phrase"}, headers=admin)
    assert resp.status_code == 204 and not resp.data
    after = store.accounts.get("liming", with_hash=True)
    hasher = PasswordHasher(app.extensions["mapserver"].settings.accounts.password_hash)
    assert hasher.verify(after.password_hash, "another long phrase") and not hasher.verify(after.password_hash,
                                                                                          PASSWORD)
    assert after.password_changed_at >= before.password_changed_at and store.sessions.count("liming") == 0
    record = store.audit.records(action="account.password")[0][0]
    assert record.target == "liming" and record.detail == {}
    assert client.put("/api/accounts/liming/password", json={}, headers=admin).status_code == 422


# --- an administrator bound to a community -----------------------------------------------------------------------


@pytest.fixture
def people(client, admin):
    """One person in each community, one in the north's compound, one over the whole store."""
    for name, grid in (("north", NORTH.code), ("north-yard", NORTH_COMPOUND.code), ("south", SOUTH.code),
                       ("south-yard", SOUTH_COMPOUND.code), ("district", None)):
        assert create(client, admin, name, grid=grid).status_code == 201
    return admin


def test_a_community_admin_lists_only_their_community(client, people, north_admin):
    listed = client.get("/api/accounts", headers=north_admin).get_json()["accounts"]
    assert [a["name"] for a in listed] == ["north", "north-yard"]
    assert len(client.get("/api/accounts", headers=people).get_json()["accounts"]) == 5


@pytest.mark.parametrize("name", ["south", "south-yard", "district"])
def test_a_community_admin_cannot_read_or_change_anyone_outside(client, store, people, north_admin, name):
    before = store.accounts.get(name, with_hash=True)
    for method, path, body in (("GET", f"/api/accounts/{name}", None),
                               ("PATCH", f"/api/accounts/{name}", {"enabled": False}),
                               ("PATCH", f"/api/accounts/{name}", {"grid": NORTH.code}),
                               ("PUT", f"/api/accounts/{name}/password", {"password": "another long phrase"})):
        resp = client.open(path, method=method, json=body, headers=north_admin)
        assert resp.status_code == 404, (method, path, resp.get_json())
    assert store.accounts.get(name, with_hash=True) == before
    assert store.audit.records(target=name)[1] == 1  # the creation only


def test_a_community_admin_changes_people_of_their_community(client, store, people, north_admin):
    resp = client.patch("/api/accounts/north", json={"grid": NORTH_COMPOUND.code, "role": "dispatcher"},
                        headers=north_admin)
    assert resp.status_code == 200 and resp.get_json()["grid"] == NORTH_COMPOUND.code
    assert client.put("/api/accounts/north-yard/password", json={"password": "another long phrase"},
                      headers=north_admin).status_code == 204


@pytest.mark.parametrize("grid", [SOUTH.code, SOUTH_COMPOUND.code, "S1", None])
def test_a_community_admin_cannot_give_a_grid_outside_theirs_nor_the_whole_store(client, store, people, north_admin,
                                                                                grid):
    moved = client.patch("/api/accounts/north", json={"grid": grid}, headers=north_admin)
    assert moved.status_code == 403 and moved.get_json()["param"] == "grid", moved.get_json()
    assert store.accounts.get("north").grid_code == NORTH.code
    made = create(client, north_admin, "newcomer", grid=grid)
    assert made.status_code == 403 and store.accounts.get("newcomer") is None
    assert client.post("/api/tokens", json={"name": "t", "role": "admin", "grid": grid},
                       headers=north_admin).status_code == 403


def test_a_community_admin_creates_people_in_their_community(client, north_admin):
    assert create(client, north_admin, "newcomer", grid=NORTH_COMPOUND.code).status_code == 201
    assert create(client, north_admin, "newcomer-2").status_code == 403  # no grid: the whole store


# --- tokens with a jurisdiction ----------------------------------------------------------------------------------


def test_a_token_takes_a_grid_and_lists_it(client, admin, store):
    resp = client.post("/api/tokens", json={"name": "north-wall", "role": "viewer", "grid": NORTH.code},
                       headers=admin)
    assert resp.status_code == 201 and resp.get_json()["grid"] == NORTH.code
    listed = {t["name"]: t["grid"] for t in client.get("/api/tokens", headers=admin).get_json()["tokens"]}
    assert listed["north-wall"] == NORTH.code and None in listed.values()
    assert store.audit.records(action="token.create")[0][0].detail == {"role": "viewer", "grid": NORTH.code}
    for grid, status in (("nowhere", 422), ("S1-C1-Y1-B1", 422), (3, 400)):
        bad = client.post("/api/tokens", json={"name": f"t-{grid}", "role": "viewer", "grid": grid}, headers=admin)
        assert bad.status_code == status and bad.get_json()["param"] == "grid"


def test_a_community_admin_sees_and_revokes_only_tokens_of_their_community(client, store, admin, north_admin):
    for name, grid in (("north-wall", NORTH.code), ("south-wall", SOUTH.code)):
        client.post("/api/tokens", json={"name": name, "role": "viewer", "grid": grid}, headers=admin)
    names = [t["name"] for t in client.get("/api/tokens", headers=north_admin).get_json()["tokens"]]
    assert "north-wall" in names and "south-wall" not in names and all(
        t["grid"] == NORTH.code for t in client.get("/api/tokens", headers=north_admin).get_json()["tokens"])
    assert client.delete("/api/tokens/south-wall", headers=north_admin).status_code == 404
    assert "south-wall" in [t.name for t in store.tokens.live()]
    assert client.delete("/api/tokens/north-wall", headers=north_admin).status_code == 204
