"""People for the login tests: accounts with a known password, apps with cheap argon2 costs, and the form."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from mapserver import create_app
from mapserver.config import AccountSettings, PasswordHashSettings, ServerSettings, Settings, StoreSettings
from mapserver.passwords import PasswordHasher
from mapserver.store import Store

CHEAP = PasswordHashSettings(time_cost=1, memory_kib=8192, parallelism=1)
"""argon2id at its lowest costs: a login in about a millisecond, for every test but the timing one."""
PASSWORD = "lantern-harbour-41"  # the test people's password
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def login_settings(store: Store, *, hashing: PasswordHashSettings = CHEAP, trusted_proxies: int = 0,
                   **accounts: Any) -> Settings:
    """Settings for ``store`` with ``accounts`` (AccountSettings fields) and the given argon2 costs."""
    return Settings(store=StoreSettings(url=store.url), server=ServerSettings(trusted_proxies=trusted_proxies),
                    accounts=AccountSettings(password_hash=hashing, **accounts))


def login_app(store: Store, **settings: Any) -> Any:
    """An app over ``store`` as :func:`login_settings` says."""
    app = create_app(login_settings(store, **settings), store=store)
    app.config["TESTING"] = True
    return app


def add_person(store: Store, name: str = "zhang.wei", *, role: str = "dispatcher", password: str = PASSWORD,
               hashing: PasswordHashSettings = CHEAP, grid_code: str | None = None) -> str:
    """An account ``name`` with ``password``; its name."""
    store.accounts.add(name=name, role=role, grid_code=grid_code, password_hash=PasswordHasher(hashing).hash(password),
                       now=datetime.now(UTC), display_name=f"{name} (test)")
    return name


def token_in(html: str) -> str:
    """The ``csrf_token`` a page's form carries."""
    found = _FORM_TOKEN.search(html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def form_login(client: Any, name: str = "zhang.wei", password: str = PASSWORD, *, next_path: str | None = None,
               **kwargs: Any) -> Any:
    """Open the login page and post its form, as a browser does; the answer to the post."""
    page = client.get("/login", headers=BROWSER, **kwargs)
    assert page.status_code == 200, page.get_data(as_text=True)
    fields = {"name": name, "password": password, "csrf_token": token_in(page.get_data(as_text=True))}
    if next_path is not None:
        fields["next"] = next_path
    return client.post("/login", data=fields, headers=BROWSER, **kwargs)


def json_login(client: Any, name: str = "zhang.wei", password: str = PASSWORD, **kwargs: Any) -> Any:
    """Log in as a script does: JSON in, the person and the session's CSRF token out."""
    return client.post("/login", json={"name": name, "password": password}, **kwargs)


def session_cookie(client: Any) -> str | None:
    """The session cookie's value the client holds, or None."""
    cookie = client.get_cookie("mapserver_session")
    return cookie.value if cookie is not None else None
