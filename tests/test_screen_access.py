"""How a wall browser gets in: ``/?token=…`` once, then an HttpOnly SameSite=Strict cookie that only reads; and
how a browser with no credential, or a session that ended, goes to the login page and comes back."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime, timedelta

from mapserver.principals import hash_token
from mapserver.screen.access import TOKEN_COOKIE
from mapserver.sessions import SESSION_COOKIE
from tests.conftest import make_token
from tests.logins import PASSWORD, add_person, form_login, login_app, session_cookie, token_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_token_in_the_url_becomes_a_cookie_and_leaves_the_url(client, store):
    token = make_token(store, "viewer")
    resp = client.get(f"/?token={token}&lang=en&window=7d", headers=BROWSER)
    assert resp.status_code == 200
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}={token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie and "Max-Age=" in cookie
    html = resp.get_data(as_text=True)
    target = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', html).group(1)
    assert target.replace("&amp;", "&") == "/?lang=en&window=7d" and token not in html
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in resp.headers["Content-Security-Policy"]  # the hand-off page runs no script
    page = client.get("/?lang=en&window=7d", headers=BROWSER)  # the test client sends the cookie back
    assert page.status_code == 200 and 'class="folium-map"' in page.get_data(as_text=True)


def test_the_cookie_reads_the_json_the_page_polls(client, store):
    client.set_cookie(TOKEN_COOKIE, make_token(store, "viewer"))
    assert client.get("/api/screen/measures").status_code == 200
    assert client.get("/api/grids").status_code == 200


def test_the_cookie_never_authorises_a_write(client, store):
    client.set_cookie(TOKEN_COOKIE, make_token(store, "admin"))
    assert client.get("/api/tokens").status_code == 200
    resp = client.post("/api/tokens", json={"name": "csrf", "role": "admin"})
    assert resp.status_code == 401


def test_only_the_page_takes_a_token_in_the_url(client, store):
    token = make_token(store, "viewer")
    assert client.get(f"/api/grids?token={token}").status_code == 401
    assert client.get(f"/api/screen/measures?token={token}").status_code == 401


def test_a_bad_token_gets_a_401_page_for_a_browser_and_a_problem_for_a_script(client):
    page = client.get("/?token=msk_not-a-real-token", headers=BROWSER)
    assert page.status_code == 401 and page.mimetype == "text/html"
    assert "需要授权" in page.get_data(as_text=True) and "Set-Cookie" not in page.headers
    assert page.headers["WWW-Authenticate"].startswith("Bearer")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    english = client.get("/?lang=en&token=msk_not-a-real-token", headers=BROWSER)
    assert english.status_code == 401 and "Authorisation needed" in english.get_data(as_text=True)
    script = client.get("/?token=msk_not-a-real-token")
    assert script.status_code == 401 and script.mimetype == "application/problem+json"


def test_a_browser_without_any_credential_goes_to_the_login_page_and_a_script_gets_a_401(client):
    page = client.get("/?lang=en&window=7d", headers=BROWSER)
    assert page.status_code == 303
    assert page.headers["Location"] == "/login?next=%2F%3Flang%3Den%26window%3D7d&lang=en"
    assert page.headers["Cache-Control"] == "no-store"
    script = client.get("/")
    assert script.status_code == 401 and script.mimetype == "application/problem+json"


def test_a_valid_header_does_not_smuggle_a_bad_url_token_into_the_cookie(client, tokens):
    resp = client.get("/?token=msk_forged", headers={**tokens["viewer"], **BROWSER})
    assert resp.status_code == 401 and "Set-Cookie" not in resp.headers


def test_a_revoked_token_ends_the_cookie_at_once(client, store):
    from mapserver.auth import hash_token, new_token

    secret = new_token()
    store.tokens.add(name="wall-2", role="viewer", token_hash=hash_token(secret))
    client.set_cookie(TOKEN_COOKIE, secret)
    assert client.get("/", headers=BROWSER).status_code == 200
    store.tokens.revoke(name="wall-2")
    assert client.get("/", headers=BROWSER).status_code == 401
    assert client.get("/api/screen/measures").status_code == 401


def test_a_browser_whose_session_ended_goes_to_the_login_page_and_comes_back(store):
    client = login_app(store).test_client()
    add_person(store)
    for end in ("expired", "revoked"):
        form_login(client)
        assert client.get("/?window=7d", headers=BROWSER).status_code == 200
        id_hash = hash_token(session_cookie(client))
        if end == "expired":
            store.sessions.touch(id_hash, now=datetime.now(UTC) - timedelta(hours=1))
        else:
            store.sessions.end(id_hash)
        resp = client.get("/?window=7d", headers=BROWSER)
        assert resp.status_code == 303, end
        assert resp.headers["Location"] == "/login?next=%2F%3Fwindow%3D7d"
        assert resp.headers["Set-Cookie"].startswith(f"{SESSION_COOKIE}=;")  # the dead cookie goes
        page = client.get(resp.headers["Location"], headers=BROWSER).get_data(as_text=True)
        next_path = html_lib.unescape(re.search(r'name="next" value="([^"]*)"', page).group(1))
        assert next_path == "/?window=7d"
        back = client.post("/login", headers=BROWSER, data={"name": "zhang.wei", "password": PASSWORD,
                                                            "next": next_path, "csrf_token": token_in(page)})
        assert back.status_code == 303 and back.headers["Location"] == "/?window=7d"
        assert client.get(back.headers["Location"], headers=BROWSER).status_code == 200
