"""Write the demo's field side to a store: the grid workers' accounts, their week of patrols with its fixes, and
the photos on some cases (through :func:`mapserver.photos.service.attach_photo`, checked, re-encoded and stored
exactly as an upload is).

Run it after :func:`mapserver.demo.build.load_city` has committed the cases, outside other transactions (a
month's track partition is made in a transaction of its own). It may run again on the same store: accounts whose
name is taken are left as they are (an administrator may have given them a password), and patrols, fixes and
photos stored already are not stored twice.

The accounts get no usable password: their hash is of a random password made here and thrown away, one hash for
all (hashing thousands of argon2 passwords would take minutes, and no password can be known or guessed from it).
A login with any password fails as for a wrong password, at the same cost, until an administrator sets one with
``mapserver user set-password``. The demo ships no password that works anywhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

from mapserver import audit
from mapserver.config import PasswordHashSettings
from mapserver.demo.build import DemoCity
from mapserver.demo.walks import Walk
from mapserver.passwords import PasswordHasher
from mapserver.photos.files import PhotoFiles
from mapserver.photos.service import Upload, attach_photo
from mapserver.photos.settings import PhotoSettings
from mapserver.store import Store
from mapserver.store.tracks import PatrolSession

FIELD_ROLE = "field"


def load_field(store: Store, city: DemoCity, *, hashing: PasswordHashSettings, files: PhotoFiles,
               photo_settings: PhotoSettings) -> dict[str, int]:
    """Write the field accounts, patrols, fixes and photos of ``city``; return how many of each were new."""
    return {"accounts": add_accounts(store, city, hashing),
            "patrols": store.tracks.copy_patrols(_sessions(city.walks)),
            "fixes": add_fixes(store, city.walks),
            "photos": add_photos(store, city, files, photo_settings)}


def add_accounts(store: Store, city: DemoCity, hashing: PasswordHashSettings) -> int:
    """Add the accounts not there yet, all with the hash of one unknown password; return how many were added."""
    missing = [a for a in city.accounts if store.accounts.get(a.name) is None]
    if not missing:
        return 0
    unusable = PasswordHasher(hashing).hash(secrets.token_urlsafe(32))  # the password is never kept anywhere
    now = datetime.now(UTC)
    with store.transaction():
        for account in missing:
            store.accounts.add(name=account.name, role=FIELD_ROLE, grid_code=account.grid_code,
                               password_hash=unusable, now=now, display_name=account.display_name)
    return len(missing)


def _sessions(walks: list[Walk]) -> Iterator[PatrolSession]:
    for walk in walks:
        yield PatrolSession(id=walk.id, person=walk.person, plan_id=None, started_at=walk.started_at,
                            ended_at=walk.ended_at)


def add_fixes(store: Store, walks: list[Walk]) -> int:
    """Store every walk's fixes, a person at a time (a fix stored already is left out); return how many were new."""
    by_person: dict[str, list[Walk]] = {}
    for walk in walks:
        by_person.setdefault(walk.person, []).append(walk)
    written = 0
    for person, own in by_person.items():
        times = [datetime.fromtimestamp(s, UTC) for w in own for s in w.seconds.tolist()]
        written += store.tracks.add_fixes(person, times, [v for w in own for v in w.lon.tolist()],
                                          [v for w in own for v in w.lat.tolist()],
                                          [v for w in own for v in w.accuracy_m.tolist()])
    return written


def add_photos(store: Store, city: DemoCity, files: PhotoFiles, settings: PhotoSettings) -> int:
    """Attach the demo's photos as their accounts would upload them; return how many were new."""
    cases = {i.id: i for i in city.incidents}
    added = 0
    for photo in city.photos:
        _, created = attach_photo(store, files, settings, incident=cases[photo.incident_id],
                                  upload=Upload(data=photo.data, kind=photo.kind),
                                  actor=audit.Actor(name=photo.by, role=FIELD_ROLE), now=photo.at)
        added += created
    return added
