"""Logging in, out, and changing one's own password; the lock against guessing; sessions ending; CSRF; `next`.

Every test runs on both store backends, with cheap argon2 costs (the real costs: tests/test_login_timing.py).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from mapserver.logins import safe_next
from mapserver.passwords import PasswordHasher
from mapserver.principals import hash_token
from mapserver.sessions import LOGIN_FORM_COOKIE, SESSION_COOKIE
from tests.conftest import make_token
from tests.logins import (
    BROWSER,
    CHEAP,
    PASSWORD,
    add_person,
    form_login,
    json_login,
    login_app,
    session_cookie,
    token_in,
)

NEW_PASSWORD = "quiet-orchard-2095"


@pytest.fixture
def app(store):
    return login_app(store)


def audit(store, action: str) -> list:
    return store.audit.records(action=action)[0]


def assert_no_password_kept(store, *passwords: str) -> None:
    records = store.audit.records(limit=1000)[0]
    text = json.dumps([[r.actor, r.target, r.detail] for r in records], ensure_ascii=False)
    for password in passwords:
        assert password not in text


# -- logging in ------------------------------------------------------------------------------------------------


def test_the_login_page_is_a_form_in_chinese_or_english_with_no_script(client):
    page = client.get("/login?next=/%3Fwindow%3D7d", headers=BROWSER)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="zh-CN">' in html and "用户名" in html and "密码" in html
    assert 'name="next" value="/?window=7d"' in html and 'autocomplete="current-password"' in html
    assert "<script" not in html and "<style" not in html and "/static/login/login.css" in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "same-origin"  # no-referrer would post the form with Origin: null
    form_cookie = page.headers["Set-Cookie"]
    assert form_cookie.startswith(f"{LOGIN_FORM_COOKIE}={token_in(html)};")
    assert "HttpOnly" in form_cookie and "SameSite=Strict" in form_cookie and "Path=/login" in form_cookie
    english = client.get("/login?lang=en", headers=BROWSER).get_data(as_text=True)
    assert '<html lang="en">' in english and ">Log in</button>" in english and 'action="/login?lang=en"' in english
    assert client.get("/static/login/login.css").status_code == 200


def test_a_login_through_the_form_opens_a_session_and_goes_on_to_next(client, store):
    add_person(store)
    resp = form_login(client, next_path="/?lang=en&window=7d")
    assert resp.status_code == 303 and resp.headers["Location"] == "/?lang=en&window=7d"
    assert store.sessions.count("zhang.wei") == 1
    wall = client.get("/?lang=en", headers=BROWSER)
    assert wall.status_code == 200 and 'class="folium-map"' in wall.get_data(as_text=True)
    assert client.get("/api/screen/measures").status_code == 200  # the page's polls go with the cookie
    (record,) = audit(store, "login")
    assert (record.actor, record.role, record.target) == ("zhang.wei", "dispatcher", "zhang.wei")
    assert record.detail == {"authenticated": True, "rehashed": False} and record.remote_addr == "127.0.0.1"
    assert_no_password_kept(store, PASSWORD)


def test_a_login_without_next_goes_to_the_wall(client, store):
    add_person(store)
    assert form_login(client).headers["Location"] == "/"


def test_a_script_logs_in_with_json_and_gets_the_csrf_token(client, store):
    add_person(store, role="operator")
    resp = json_login(client)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "zhang.wei" and body["role"] == "operator" and len(body["csrf_token"]) >= 40
    assert session_cookie(client) is not None
    assert client.get("/api/incidents").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example",
                                    "javascript:alert(1)", "evil.example", "/%0d%0aSet-Cookie:x", " /x", "http:/x"])
def test_next_never_leads_to_another_site(client, store, target):
    add_person(store)
    resp = form_login(client, next_path=target)
    assert resp.status_code == 303
    assert resp.headers["Location"] in ("/", target) and safe_next(target, default="/") in ("/", target)
    if resp.headers["Location"] != "/":  # only a path with no host in any browser's reading may stay
        assert target.startswith("/") and not target.startswith("//") and "\\" not in target


def test_safe_next_keeps_local_paths_only():
    for kept in ("/", "/?lang=en&window=7d", "/api/incidents?status=closed", "/account/password"):
        assert safe_next(kept, default="/home") == kept
    for refused in ("//evil.example", "https://evil.example", "/\\evil.example", "/\t/evil.example",
                    "javascript:alert(1)", "", None, "x", "/" + "a" * 3000, "/a b", "/\x00"):
        assert safe_next(refused, default="/home") == "/home"


def test_the_login_page_refuses_a_next_of_another_site(client):
    html = client.get("/login?next=//evil.example", headers=BROWSER).get_data(as_text=True)
    assert 'name="next" value="/"' in html and "evil" not in html


def test_wrong_password_and_unknown_name_answer_the_same(client, store):
    add_person(store)
    wrong = json_login(client, "zhang.wei", "not-the-password")
    unknown = json_login(client, "li.na", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.mimetype == unknown.mimetype == "application/problem+json"
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["detail"] == "wrong name or password"
    names = ("zhang.wei", "li.na")
    pages = [form_login(client, name, "not-the-password") for name in names]
    assert pages[0].status_code == pages[1].status_code == 401
    bodies = [p.get_data(as_text=True).replace(name, "NAME") for p, name in zip(pages, names, strict=True)]
    assert bodies[0].split('name="csrf_token"')[0] == bodies[1].split('name="csrf_token"')[0]
    assert "用户名或密码错误" in bodies[0] and session_cookie(client) is None
    failures = audit(store, "login.failure")
    assert len(failures) == 4
    assert {(r.actor, r.role, r.target, r.detail["authenticated"]) for r in failures} == {
        ("zhang.wei", None, "zhang.wei", False), ("li.na", None, "li.na", False)}
    assert {r.detail["reason"] for r in failures} == {"wrong password", "no such account"}
    assert store.sessions.count("zhang.wei") == 0
    assert_no_password_kept(store, "not-the-password")


def test_a_failed_login_page_escapes_the_name_it_shows_again(client, store):
    resp = form_login(client, '"><script>alert(1)</script>', "whatever-it-is")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 401 and "<script>" not in html and "&lt;script&gt;" in html


def test_odd_names_are_wrong_logins_not_errors(client, store):
    for name in ("a\x00b", "x" * 500, "名字 with space", "\u202e"):
        resp = json_login(client, name, "whatever-it-is")
        assert resp.status_code == 401, (name, resp.get_data(as_text=True))
    assert json_login(client, "", "x").status_code == 400
    assert client.post("/login", json={"name": 1, "password": "x"}).status_code == 400
    assert client.post("/login", json=["zhang.wei"]).status_code == 400
    assert client.post("/login", data="name=x", content_type="text/plain").status_code == 400


def test_a_disabled_account_cannot_log_in_and_its_open_session_stops_at_once(client, store, app):
    add_person(store)
    assert form_login(client).status_code == 303
    assert client.get("/api/grids").status_code == 200
    store.accounts.set_enabled("zhang.wei", enabled=False, now=datetime.now(UTC))
    assert client.get("/api/grids").status_code == 401
    other = app.test_client()
    resp = json_login(other)
    assert resp.status_code == 401 and resp.get_json()["detail"] == "wrong name or password"
    assert audit(store, "login.failure")[0].detail["reason"] == "account disabled"
    store.accounts.set_enabled("zhang.wei", enabled=True, now=datetime.now(UTC))
    assert json_login(other).status_code == 200


def test_a_login_stores_a_stronger_hash_when_the_costs_were_raised(client, store):
    weaker = CHEAP.model_copy(update={"memory_kib": 9216})
    add_person(store, hashing=weaker)
    before = store.accounts.get("zhang.wei", with_hash=True).password_hash
    assert "m=9216" in before
    assert json_login(client).status_code == 200
    after = store.accounts.get("zhang.wei", with_hash=True).password_hash
    assert after != before and "m=8192" in after and PasswordHasher(CHEAP).verify(after, PASSWORD)
    assert audit(store, "login")[0].detail["rehashed"] is True


# -- the lock against guessing ---------------------------------------------------------------------------------


def test_five_failures_lock_the_name_with_retry_after(client, store, app):
    add_person(store)
    for _ in range(5):
        assert json_login(client, "zhang.wei", "guess-again").status_code == 401
    locked = json_login(client)  # even the right password: the lock is checked first
    assert locked.status_code == 429 and locked.mimetype == "application/problem+json"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "try again in 15 minutes" in locked.get_json()["detail"]
    elsewhere = app.test_client()  # the name is locked from every address
    assert json_login(elsewhere, environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 429
    page = form_login(elsewhere)
    assert page.status_code == 429 and "请 15 分钟后再试" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]
    (lock,) = audit(store, "login.lockout")  # once per lock, not once per refused attempt
    assert lock.actor == "zhang.wei" and lock.target == "zhang.wei" and lock.detail["locked"] == ["name", "address"]
    assert lock.detail["authenticated"] is False
    assert len(audit(store, "login.failure")) == 5  # refused attempts are not counted
    assert store.sessions.count("zhang.wei") == 0


def test_five_failures_from_one_address_lock_the_address_whatever_the_names(client, store, app):
    add_person(store)
    attacker = {"REMOTE_ADDR": "10.0.0.66"}
    for i in range(5):
        assert json_login(client, f"guess-{i}", "guess-again", environ_base=attacker).status_code == 401
    assert json_login(client, environ_base=attacker).status_code == 429
    (lock,) = audit(store, "login.lockout")
    assert lock.detail["locked"] == ["address"] and lock.remote_addr == "10.0.0.66"
    assert json_login(app.test_client(), environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200


def test_four_failures_and_a_success_start_the_count_again(client, store):
    add_person(store)
    for _ in range(4):
        json_login(client, "zhang.wei", "guess-again", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert json_login(client, environ_base={"REMOTE_ADDR": "10.1.1.2"}).status_code == 200
    for _ in range(4):
        json_login(client, "zhang.wei", "guess-again", environ_base={"REMOTE_ADDR": "10.1.1.3"})
    assert json_login(client, environ_base={"REMOTE_ADDR": "10.1.1.4"}).status_code == 200


def test_the_lock_ends_when_its_time_is_up(store):
    client = login_app(store, lockout_failures=2, lockout_min=0.02).test_client()  # 1.2 s
    add_person(store)
    for _ in range(2):
        json_login(client, "zhang.wei", "guess-again")
    locked = json_login(client)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) <= 2
    time.sleep(1.3)
    assert json_login(client).status_code == 200


# -- sessions ending -------------------------------------------------------------------------------------------


def test_a_session_ends_after_its_idle_time(client, store):
    add_person(store)
    form_login(client)
    id_hash = hash_token(session_cookie(client))
    store.sessions.touch(id_hash, now=datetime.now(UTC) - timedelta(minutes=29))  # idle 29 of the 30 minutes
    assert client.get("/api/grids").status_code == 200
    store.sessions.touch(id_hash, now=datetime.now(UTC) - timedelta(minutes=31))
    resp = client.get("/api/grids")
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Cookie")
    assert store.sessions.count("zhang.wei") == 0


def test_a_session_ends_after_its_longest_time_even_in_use(store):
    add_person(store)
    short = login_app(store, session_max_hours=1 / 3600, session_idle_min=0.01).test_client()  # 1 s, 0.6 s idle
    long = login_app(store, session_max_hours=1, session_idle_min=0.01).test_client()
    for client in (short, long):
        form_login(client)
    time.sleep(1.2)
    for client in (short, long):  # in use all along: not idle
        store.sessions.touch(hash_token(session_cookie(client)), now=datetime.now(UTC))
    assert short.get("/api/grids").status_code == 401
    assert long.get("/api/grids").status_code == 200


# -- logging out -----------------------------------------------------------------------------------------------


def test_logout_ends_the_session_and_clears_the_cookie(client, store):
    add_person(store)
    form_login(client)
    page = client.get("/logout", headers=BROWSER)  # a GET shows the button and logs nobody out
    assert page.status_code == 200 and "<script" not in page.get_data(as_text=True)
    assert store.sessions.count("zhang.wei") == 1
    resp = client.post("/logout", data={"csrf_token": token_in(page.get_data(as_text=True))}, headers=BROWSER)
    assert resp.status_code == 303 and resp.headers["Location"] == "/login"
    assert f"{SESSION_COOKIE}=;" in resp.headers["Set-Cookie"] and session_cookie(client) is None
    assert store.sessions.count("zhang.wei") == 0
    (record,) = audit(store, "logout")
    assert (record.actor, record.role, record.target, record.detail) == ("zhang.wei", "dispatcher", "zhang.wei",
                                                                        {"ended": True})
    wall = client.get("/", headers=BROWSER)
    assert wall.status_code == 303 and wall.headers["Location"] == "/login?next=%2F"


def test_a_stolen_cookie_is_useless_after_logout(client, store, app):
    add_person(store)
    form_login(client)
    stolen = session_cookie(client)
    json_logout = client.post("/logout", headers={"X-CSRF-Token": token_in(
        client.get("/logout", headers=BROWSER).get_data(as_text=True))})
    assert json_logout.status_code == 204
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, stolen)
    assert thief.get("/api/grids").status_code == 401


def test_a_token_has_no_session_to_log_out_nor_a_password_to_change(client, tokens):
    assert client.post("/logout", headers=tokens["viewer"]).status_code == 204
    assert client.get("/logout", headers=tokens["viewer"]).status_code == 303
    refused = client.post("/account/password", headers=tokens["admin"], json={"current_password": "x",
                                                                              "new_password": "y"})
    assert refused.status_code == 400 and "token" in refused.get_json()["detail"]
    assert client.get("/account/password", headers=tokens["admin"]).status_code == 400


def test_the_pages_send_a_browser_without_a_session_to_the_login(client):
    for path in ("/logout", "/account/password?lang=en"):
        resp = client.get(path, headers=BROWSER)
        assert resp.status_code == 303 and resp.headers["Location"].startswith("/login?next=")
    assert client.get("/account/password").status_code == 401  # a script gets its 401


# -- CSRF ------------------------------------------------------------------------------------------------------


def _logged_in_csrf(client) -> str:
    form_login(client)
    return token_in(client.get("/account/password", headers=BROWSER).get_data(as_text=True))


def test_a_write_by_cookie_without_the_csrf_token_is_refused_and_writes_nothing(client, store):
    add_person(store)
    token = _logged_in_csrf(client)
    changed_at = store.accounts.get("zhang.wei").password_changed_at
    fields = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    for extra, headers in (({}, {}), ({"csrf_token": "forged"}, {}), ({"csrf_token": "ü" * 43}, {}),
                           ({}, {"X-CSRF-Token": "forged"})):
        resp = client.post("/account/password", data={**fields, **extra}, headers=headers)
        assert resp.status_code == 403 and resp.mimetype == "application/problem+json", resp.get_data(as_text=True)
        assert "CSRF" in resp.get_json()["detail"]
    assert client.post("/logout", data={}).status_code == 403
    assert store.accounts.get("zhang.wei").password_changed_at == changed_at
    assert store.sessions.count("zhang.wei") == 1 and audit(store, "password.change") == []
    assert audit(store, "logout") == []
    assert client.post("/account/password", data={**fields, "csrf_token": token}).status_code == 200


def test_a_write_by_cookie_from_another_origin_is_refused_even_with_the_token(client, store):
    add_person(store)
    token = _logged_in_csrf(client)
    for origin in ("http://evil.example", "null", "http://localhost:8080"):
        resp = client.post("/logout", data={"csrf_token": token}, headers={"Origin": origin})
        assert resp.status_code == 403 and "origin" in resp.get_json()["detail"]
    assert store.sessions.count("zhang.wei") == 1
    assert client.post("/logout", data={"csrf_token": token}, headers={"Origin": "http://localhost"}).status_code == 303


def test_a_bearer_token_is_unaffected_by_the_cookie_s_checks(client, store, tokens):
    add_person(store, role="viewer")
    form_login(client)  # a viewer's session cookie goes along, without its CSRF token
    resp = client.post("/api/tokens", json={"name": "from-a-script", "role": "viewer"},
                       headers={**tokens["admin"], "Origin": "http://elsewhere.example"})
    assert resp.status_code == 201, resp.get_data(as_text=True)


def test_the_login_form_needs_its_own_token_and_this_origin(client, store):
    add_person(store)
    client.get("/login", headers=BROWSER)
    no_token = client.post("/login", data={"name": "zhang.wei", "password": PASSWORD}, headers=BROWSER)
    assert no_token.status_code == 403 and "登录页面已过期" in no_token.get_data(as_text=True)
    fresh = client.get("/login", headers=BROWSER).get_data(as_text=True)
    fields = {"name": "zhang.wei", "password": PASSWORD, "csrf_token": token_in(fresh)}
    cross = client.post("/login", data=fields, headers={**BROWSER, "Origin": "http://evil.example"})
    assert cross.status_code == 403
    cross_json = client.post("/login", json={"name": "zhang.wei", "password": PASSWORD},
                             headers={"Origin": "http://evil.example"})
    assert cross_json.status_code == 403
    client.delete_cookie(LOGIN_FORM_COOKIE, path="/login")
    assert client.post("/login", data=fields, headers=BROWSER).status_code == 403  # the field alone is not enough
    assert session_cookie(client) is None and store.sessions.count("zhang.wei") == 0
    assert audit(store, "login.failure") == []  # refused before any password was checked


# -- session fixation and the cookie's flags -------------------------------------------------------------------


def test_every_login_gets_a_new_session_id_never_one_sent_before(client, store):
    add_person(store)
    client.set_cookie(SESSION_COOKIE, "chosen-by-an-attacker")
    form_login(client)
    first = session_cookie(client)
    assert first not in (None, "chosen-by-an-attacker")
    form_login(client)  # logging in again, in the same browser
    second = session_cookie(client)
    assert second != first and store.sessions.count("zhang.wei") == 1  # the session before it ended


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_tls(store):
    add_person(store)
    plain = login_app(store).test_client()
    cookie = json_login(plain).headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Max-Age=43200" in cookie and "Secure" not in cookie
    tls = login_app(store).test_client()
    assert "Secure" in json_login(tls, base_url="https://localhost").headers["Set-Cookie"]
    proxied = login_app(store, trusted_proxies=1).test_client()
    behind = json_login(proxied, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.2.3.4"})
    assert "Secure" in behind.headers["Set-Cookie"]
    assert audit(store, "login")[0].remote_addr == "10.2.3.4"
    page = proxied.get("/login", headers={**BROWSER, "X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]  # the login form's cookie too


# -- changing one's own password -------------------------------------------------------------------------------


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(client, store, app):
    add_person(store)
    other = app.test_client()
    form_login(other)
    token = _logged_in_csrf(client)
    before = session_cookie(client)
    resp = client.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                                   "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
                       headers=BROWSER)
    assert resp.status_code == 200 and "密码已修改" in resp.get_data(as_text=True)
    assert session_cookie(client) not in (None, before)
    assert client.get("/api/grids").status_code == 200  # still logged in, with a fresh session
    assert other.get("/api/grids").status_code == 401  # the other browser is out
    assert store.sessions.count("zhang.wei") == 1
    fresh = app.test_client()
    assert json_login(fresh, "zhang.wei", PASSWORD).status_code == 401
    assert json_login(fresh, "zhang.wei", NEW_PASSWORD).status_code == 200
    (record,) = audit(store, "password.change")
    assert (record.actor, record.role, record.target) == ("zhang.wei", "dispatcher", "zhang.wei")
    assert record.detail == {"sessions_ended": 2}
    assert_no_password_kept(store, PASSWORD, NEW_PASSWORD)


def test_a_script_changes_its_password_with_json_and_gets_the_new_csrf_token(client, store):
    add_person(store)
    old = json_login(client).get_json()["csrf_token"]
    resp = client.post("/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                       headers={"X-CSRF-Token": old})
    assert resp.status_code == 200
    new = resp.get_json()["csrf_token"]
    assert new != old
    assert client.post("/logout", headers={"X-CSRF-Token": old}).status_code == 403  # the old token went with it
    assert client.post("/logout", headers={"X-CSRF-Token": new}).status_code == 204


@pytest.mark.parametrize(("new", "why", "words"), [
    ("short", "too short: at least 10 characters, got 5", "新密码太短：至少 10 个字符，当前 5 个"),
    ("password123", "most commonly guessed", "最常被猜中"),
    ("zhang.wei-at-home", "contains the account name", "包含用户名"),
    (PASSWORD, "is the current one", "不能与当前密码相同"),
])
def test_a_new_password_the_rules_refuse_says_why(client, store, new, why, words):
    add_person(store)
    csrf = json_login(client).get_json()["csrf_token"]
    resp = client.post("/account/password", json={"current_password": PASSWORD, "new_password": new},
                       headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 422 and why in resp.get_json()["detail"]
    assert resp.get_json()["param"] == "new_password"
    page = client.post("/account/password", headers=BROWSER, data={
        "csrf_token": csrf, "current_password": PASSWORD, "new_password": new, "new_password_again": new})
    assert page.status_code == 422 and words in page.get_data(as_text=True)
    assert audit(store, "password.change") == [] and store.sessions.count("zhang.wei") == 1


def test_the_two_new_passwords_must_match_and_the_current_must_be_right(client, store):
    add_person(store)
    csrf = json_login(client).get_json()["csrf_token"]
    differ = client.post("/account/password", headers=BROWSER, data={
        "csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD + "x"})
    assert differ.status_code == 422 and "两次输入的新密码不一致" in differ.get_data(as_text=True)
    wrong = client.post("/account/password", json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD},
                        headers={"X-CSRF-Token": csrf})
    assert wrong.status_code == 403 and wrong.get_json()["param"] == "current_password"
    (failure,) = audit(store, "login.failure")  # a wrong current password counts as a guess
    assert failure.role == "dispatcher" and failure.detail == {"authenticated": True, "form": "password change"}
    assert PasswordHasher(CHEAP).verify(store.accounts.get("zhang.wei", with_hash=True).password_hash, PASSWORD)


def test_guessing_the_current_password_through_a_stolen_session_locks_it(client, store):
    add_person(store)
    csrf = json_login(client).get_json()["csrf_token"]
    for _ in range(5):
        resp = client.post("/account/password", json={"current_password": "guess-it-now", "new_password": NEW_PASSWORD},
                           headers={"X-CSRF-Token": csrf})
        assert resp.status_code == 403
    locked = client.post("/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                         headers={"X-CSRF-Token": csrf})
    assert locked.status_code == 429 and locked.headers["Retry-After"]
    (lock,) = audit(store, "login.lockout")
    assert lock.detail["authenticated"] is True and lock.role == "dispatcher"


def test_the_password_page_in_english(client, store):
    add_person(store)
    form_login(client)
    page = client.get("/account/password?lang=en", headers=BROWSER)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="en">' in html and "Current password" in html
    assert 'autocomplete="new-password"' in html and "<script" not in html
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_a_viewer_may_change_their_own_password(client, store):
    add_person(store, role="viewer")
    csrf = json_login(client).get_json()["csrf_token"]
    resp = client.post("/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                       headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200


def test_a_wall_token_cookie_still_works_beside_the_login(client, store):
    from mapserver.screen.access import TOKEN_COOKIE

    client.set_cookie(TOKEN_COOKIE, make_token(store, "viewer"))
    assert client.get("/", headers=BROWSER).status_code == 200


def test_a_session_acts_in_its_grid_and_is_refused_once_the_grid_is_gone(client, store):
    from tests import samples

    store.layers.add("grids", [samples.STREET, samples.COMMUNITY])
    add_person(store, "li.na", role="viewer", grid_code=samples.COMMUNITY.code)
    assert form_login(client, name="li.na").status_code == 303
    grids = client.get("/api/grids").get_json()["features"]
    assert [g["id"] for g in grids] == [samples.COMMUNITY.code]  # the street above it is outside
    store.layers.delete("grids", keys=[samples.COMMUNITY.code])
    refused = client.get("/api/grids")
    assert refused.status_code == 403 and samples.COMMUNITY.code in refused.get_json()["detail"]
