"""The accounts page (/admin/accounts) with the Flask client, on both backends: the people and tokens of the
administrator's jurisdiction only; each form's change written with its audit record and said on the page after the
redirect; bad input said on the page in its language with nothing written; CSRF and origin checked; admins only."""

from __future__ import annotations

import re
from html import unescape

import pytest

from mapserver.store import Store
from tests.accounts_data import NORTH, NORTH_COMPOUND, SOUTH, STREET, load_grids
from tests.logins import BROWSER, PASSWORD, add_person, form_login, login_app, token_in

NEW_PASSWORD = "amber-meadow-4471"
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def people(store: Store) -> Store:
    load_grids(store)
    add_person(store, "boss", role="admin")
    add_person(store, "north.admin", role="admin", grid_code=NORTH.code)
    add_person(store, "north.worker", role="field", grid_code=NORTH_COMPOUND.code)
    add_person(store, "south.worker", role="field", grid_code=SOUTH.code)
    add_person(store, "desk", role="dispatcher", grid_code=NORTH.code)
    store.accounts.set_display_name("north.worker", display_name=HOSTILE)
    return store


@pytest.fixture
def app(people: Store):
    return login_app(people)


def page(client, query: str = "") -> tuple[int, str]:
    resp = client.get(f"/admin/accounts{query}", headers=BROWSER)
    return resp.status_code, resp.get_data(as_text=True)


def logged_in(client, name: str) -> str:
    """Log ``name`` in; the CSRF token of the accounts page."""
    assert form_login(client, name).status_code == 303
    status, html = page(client)
    assert status == 200, html
    return token_in(html)


def post(client, path: str, csrf: str | None, lang: str = "", **fields: str):
    data = dict(fields, **({"csrf_token": csrf} if csrf is not None else {}))
    return client.post(f"/admin{path}{lang}", data=data, headers=BROWSER)


def names_listed(html: str, attribute: str = "data-name") -> list[str]:
    return [unescape(n) for n in re.findall(rf'<tr {attribute}="([^"]*)"', html)]


def audit_count(store: Store) -> int:
    return store.audit.records()[1]


def message(html: str) -> str:
    found = re.search(r'<p class="ms-(?:error|done)" role="(?:alert|status)">([^<]*)</p>', html)
    assert found, "the page says nothing"
    return unescape(found.group(1))


def test_the_page_lists_the_people_of_the_whole_store_for_a_district_admin(client, people):
    logged_in(client, "boss")
    status, html = page(client)
    assert status == 200
    assert names_listed(html) == ["boss", "desk", "north.admin", "north.worker", "south.worker"]
    assert '<html lang="zh-CN">' in html and "账号管理" in html and "系统管理" in html and "全区" in html
    assert f"{NORTH.code} {NORTH.name}" in html and f"{NORTH_COMPOUND.code} {NORTH_COMPOUND.name}" in html
    assert HOSTILE not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<script" not in html and "style=" not in html


def test_a_grid_admin_sees_only_their_jurisdiction_in_english(client, people):
    logged_in(client, "north.admin")
    status, html = page(client, "?lang=en")
    assert status == 200 and '<html lang="en">' in html and "Accounts" in html
    assert names_listed(html) == ["desk", "north.admin", "north.worker"]  # not boss (the whole store), not south
    assert f"the people and tokens of {NORTH.code} {NORTH.name}" in html
    assert 'id="new-grid" name="grid" value="S1-C1"' in html  # a new person starts in the admin's grid


def test_the_page_has_the_form_pages_headers(client, people):
    logged_in(client, "boss")
    resp = client.get("/admin/accounts", headers=BROWSER)
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'self'")
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_adding_a_person_writes_them_with_a_record_and_says_so(client, people):
    csrf = logged_in(client, "north.admin")
    resp = post(client, "/accounts", csrf, name="li.na", display_name="李娜", role="dispatcher",
                grid=NORTH_COMPOUND.code, password=NEW_PASSWORD)
    assert resp.status_code == 303 and resp.headers["Location"] == "/admin/accounts?done=created&name=li.na"
    made = people.accounts.get("li.na")
    assert (made.role, made.grid_code, made.display_name, made.enabled) == ("dispatcher", NORTH_COMPOUND.code,
                                                                          "李娜", True)
    (record,), _ = people.audit.records(action="account.create")
    assert (record.actor, record.target, record.role) == ("north.admin", "li.na", "admin")
    status, html = page(client, "?done=created&name=li.na")
    assert status == 200
    assert message(html) == "已添加 li.na。" and "li.na" in names_listed(html)
    assert page(client, "?done=nonsense&name=x")[1].count('class="ms-done"') == 0  # only known messages


@pytest.mark.parametrize(("fields", "status", "said"), [
    ({"name": "li na"}, 422, "用户名须为 1–64 个字符，不含空格或控制字符。"),
    ({"name": "desk"}, 409, "用户名“desk”已存在（停用的用户名仍被占用）。"),
    ({"role": "chief"}, 422, "请选择一个角色。"),
    ({"grid": "NOPE"}, 422, "没有编码为“NOPE”的街道、社区或小区网格。"),
    ({"grid": SOUTH.code}, 403, f"超出您的辖区：只能指定 {NORTH.code} {NORTH.name} 或其下级网格。"),
    ({"grid": ""}, 403, f"超出您的辖区：只能指定 {NORTH.code} {NORTH.name} 或其下级网格。"),  # the whole store
    ({"display_name": "two\nlines"}, 422, "显示名称最多 100 个字符，不含换行或控制字符。"),
    ({"password": "short"}, 422, "新密码太短：至少 10 个字符，当前 5 个"),
    ({"password": "li.na-is-me-1"}, 422, "新密码包含用户名，请换一个"),
    ({"password": ""}, 422, "请输入密码。"),
])
def test_a_refused_person_is_said_on_the_page_and_nothing_is_written(client, people, fields, status, said):
    csrf = logged_in(client, "north.admin")
    before = (len(people.accounts.list()), audit_count(people))
    body = {"name": "li.na", "display_name": "李娜", "role": "field", "grid": NORTH.code, "password": NEW_PASSWORD,
            **fields}
    resp = post(client, "/accounts", csrf, **body)
    assert resp.status_code == status
    html = resp.get_data(as_text=True)
    assert message(html) == said
    assert (len(people.accounts.list()), audit_count(people)) == before
    typed_name = body["name"]
    assert f'id="new-name" name="name" value="{typed_name}"' in html  # the form keeps what was typed
    assert NEW_PASSWORD not in html and "li.na-is-me-1" not in html  # a password is never sent back


def test_each_change_is_written_with_its_record(client, people):
    csrf = logged_in(client, "north.admin")
    steps = [
        ({"role": "dispatcher"}, "changed", "account.role", lambda a: a.role == "dispatcher"),
        ({"grid": NORTH.code}, "changed", "account.grid", lambda a: a.grid_code == NORTH.code),
        ({"display_name": "王芳"}, "changed", "account.display_name", lambda a: a.display_name == "王芳"),
        ({"enabled": "false"}, "disabled", "account.disable", lambda a: not a.enabled),
        ({"enabled": "true"}, "enabled", "account.enable", lambda a: a.enabled),
    ]
    for fields, done, action, holds in steps:
        resp = post(client, "/accounts/change", csrf, name="north.worker", **fields)
        assert resp.status_code == 303, resp.get_data(as_text=True)
        assert resp.headers["Location"] == f"/admin/accounts?done={done}&name=north.worker"
        assert holds(people.accounts.get("north.worker")), action
        records, _ = people.audit.records(action=action)
        assert [(r.actor, r.target) for r in records] == [("north.admin", "north.worker")]
    status, html = page(client, "?done=disabled&name=north.worker&lang=en")
    assert status == 200
    assert message(html) == "north.worker is disabled; their logins have ended."


def test_a_password_reset_is_written_with_its_record_and_a_weak_one_is_refused(client, people):
    csrf = logged_in(client, "north.admin")
    before = people.accounts.get("north.worker").password_changed_at
    resp = post(client, "/accounts/password", csrf, "?lang=en", name="north.worker", password="password123")
    assert resp.status_code == 422
    said = message(resp.get_data(as_text=True))
    assert said == "The new password is one of the most commonly guessed; choose another"
    assert people.accounts.get("north.worker").password_changed_at == before
    resp = post(client, "/accounts/password", csrf, "?lang=en", name="north.worker", password=NEW_PASSWORD)
    assert resp.status_code == 303 and "lang=en" in resp.headers["Location"]
    assert people.accounts.get("north.worker").password_changed_at > before
    (record,), _ = people.audit.records(action="account.password")
    assert (record.actor, record.target) == ("north.admin", "north.worker")
    client.post("/logout", data={"csrf_token": csrf}, headers=BROWSER)
    assert form_login(client, "north.worker", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(("path", "fields", "status", "said"), [
    ("/accounts/change", {"name": "south.worker", "role": "viewer"}, 404, "没有名为“south.worker”的人员。"),
    ("/accounts/change", {"name": "north.worker", "grid": SOUTH.code}, 403,
     f"超出您的辖区：只能指定 {NORTH.code} {NORTH.name} 或其下级网格。"),
    ("/accounts/change", {"name": "north.worker", "role": "boss"}, 422, "请选择一个角色。"),
    ("/accounts/password", {"name": "boss", "password": NEW_PASSWORD}, 404, "没有名为“boss”的人员。"),
    ("/accounts/change", {"name": "north.admin", "enabled": "false"}, 409,
     "不能停用自己的账号（请由其他管理员或在服务器上用命令行操作）。"),
    ("/accounts/change", {"name": "north.admin", "role": "dispatcher"}, 409,
     "不能取消自己的系统管理角色（请由其他管理员或在服务器上用命令行操作）。"),
    ("/accounts/change", {"name": "north.admin", "grid": NORTH_COMPOUND.code}, 409,
     "不能缩小自己的辖区（请由其他管理员或在服务器上用命令行操作）。"),
    ("/tokens", {"name": "wall", "role": "viewer", "grid": STREET.code}, 403,
     f"超出您的辖区：只能指定 {NORTH.code} {NORTH.name} 或其下级网格。"),
    ("/tokens", {"name": "wall", "role": "mayor", "grid": NORTH.code}, 422, "请选择一个角色。"),
    ("/tokens/revoke", {"name": "nothing"}, 404, "没有名为“nothing”的有效令牌。"),
])
def test_a_refused_change_is_said_and_changes_nothing(client, people, path, fields, status, said):
    csrf = logged_in(client, "north.admin")
    before = ([(a.name, a.role, a.grid_code, a.enabled, a.password_changed_at) for a in people.accounts.list()],
              audit_count(people), people.tokens.live())
    resp = post(client, path, csrf, **fields)
    assert resp.status_code == status
    assert message(resp.get_data(as_text=True)) == said
    after = ([(a.name, a.role, a.grid_code, a.enabled, a.password_changed_at) for a in people.accounts.list()],
             audit_count(people), people.tokens.live())
    assert after == before


def test_a_token_is_created_shown_once_listed_and_revoked(client, people):
    csrf = logged_in(client, "north.admin")
    resp = post(client, "/tokens", csrf, name="north-wall", role="viewer", grid=NORTH_COMPOUND.code)
    assert resp.status_code == 201
    html = resp.get_data(as_text=True)
    secret = re.search(r'<code id="new-token">([^<]+)</code>', html).group(1)
    assert secret.startswith("msk_") and "north-wall" in names_listed(html, "data-token")
    answer = client.get("/api/grids/check", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code in (200, 422), answer.get_json()  # the token opens reads
    (token,) = people.tokens.live()
    assert (token.name, token.role, token.grid_code) == ("north-wall", "viewer", NORTH_COMPOUND.code)
    (record,), _ = people.audit.records(action="token.create")
    assert (record.actor, record.target) == ("north.admin", "north-wall")
    assert secret not in page(client)[1]  # shown once
    resp = post(client, "/tokens/revoke", csrf, name="north-wall")
    assert resp.status_code == 303 and people.tokens.live() == []
    assert people.audit.records(action="token.revoke")[1] == 1
    assert client.get("/api/grids/check", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_district_admin_lists_every_token_and_a_grid_admin_theirs(client, people):
    csrf = logged_in(client, "boss")
    for name, grid in (("all-wall", ""), ("south-wall", SOUTH.code), ("north-wall", NORTH.code)):
        assert post(client, "/tokens", csrf, name=name, role="viewer", grid=grid).status_code == 201
    assert names_listed(page(client)[1], "data-token") == ["all-wall", "north-wall", "south-wall"]
    client.post("/logout", data={"csrf_token": csrf}, headers=BROWSER)
    logged_in(client, "north.admin")
    assert names_listed(page(client)[1], "data-token") == ["north-wall"]


@pytest.mark.parametrize("path", ["/accounts", "/accounts/change", "/accounts/password", "/tokens",
                                  "/tokens/revoke"])
def test_a_form_without_the_csrf_token_or_from_another_origin_is_403_and_writes_nothing(client, people, path):
    csrf = logged_in(client, "boss")
    fields = {"name": "north.worker", "role": "viewer", "grid": NORTH.code, "password": NEW_PASSWORD,
              "enabled": "false"}
    before = audit_count(people)
    assert post(client, path, None, **fields).status_code == 403
    assert post(client, path, "wrong", **fields).status_code == 403
    resp = client.post(f"/admin{path}", data=dict(fields, csrf_token=csrf),
                       headers={**BROWSER, "Origin": "http://elsewhere.example"})
    assert resp.status_code == 403
    assert audit_count(people) == before and people.accounts.get("north.worker").role == "field"


def test_a_person_who_is_not_an_admin_gets_403(client, people):
    assert form_login(client, "desk").status_code == 303
    assert page(client)[0] == 403
    csrf = token_in(client.get("/logout", headers=BROWSER).get_data(as_text=True))
    before = audit_count(people)
    assert post(client, "/accounts/change", csrf, name="desk", role="admin").status_code == 403
    assert post(client, "/accounts", csrf, name="x.y", role="admin", password=NEW_PASSWORD).status_code == 403
    assert audit_count(people) == before and people.accounts.get("desk").role == "dispatcher"


def test_a_browser_without_a_session_goes_to_the_login_page_and_comes_back(client, people):
    resp = client.get("/admin/accounts?lang=en", headers=BROWSER)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/login?next=%2Fadmin%2Faccounts%3Flang%3Den&lang=en"
    assert form_login(client, "boss", PASSWORD, next_path="/admin/accounts").headers["Location"] == "/admin/accounts"
