"""Photos of cases over HTTP, on both stores: upload (multipart, idempotent), the case's list and timeline, serving
with the right headers; the hostile corpus refused with nothing stored; 413; jurisdiction (a photo of a case outside
it is a 404 like a missing one); a full disk answers 507 and leaves nothing (a real tmpfs in a mount namespace)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from PIL import Image

from mapserver import create_app
from mapserver.config import Settings, StoreSettings
from mapserver.photos.service import prepare
from mapserver.photos.settings import PhotoSettings
from tests import jurisdiction_data as data
from tests import photo_corpus as corpus
from tests.test_api import assert_problem

A1_SOUTH, A1_NORTH = data.COMPOUNDS[0], data.COMPOUNDS[1]


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "photos"


@pytest.fixture
def district(store):
    data.load(store)
    return store


def photo_app(store, folder: Path, **photos: object):
    app = create_app(Settings(store=StoreSettings(url=store.url), photos=PhotoSettings(dir=str(folder), **photos)),
                     store=store)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(district, folder):
    return photo_app(district, folder).test_client()


@pytest.fixture
def people(district):
    return {
        "field_a1s": data.token(district, "field", A1_SOUTH, "field-a1s"),
        "field_a1n": data.token(district, "field", A1_NORTH, "field-a1n"),
        "dispatcher_b": data.token(district, "dispatcher", data.STREET_B, "dispatcher-b"),
        "viewer": data.token(district, "viewer", None, "viewer"),
        "viewer_b": data.token(district, "viewer", data.STREET_B, "viewer-b"),
        "dispatcher": data.token(district, "dispatcher", None, "dispatcher"),
        "liaison": data.token(district, "liaison", None, "liaison"),
    }


def report(client, headers, grid) -> str:
    """Report a case at the middle of ``grid`` through the API (so that it has its report entry); its id."""
    centre = grid.geom.centroid
    resp = client.post("/api/incidents", headers=headers, json={
        "category": "city_appearance", "severity": "general", "description": "楼道堆物",
        "point": {"lon": round(centre.x, 6), "lat": round(centre.y, 6)}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


@pytest.fixture
def case(client, people) -> str:
    """A case in compound A1-south, reported by its grid worker."""
    return report(client, people["field_a1s"], A1_SOUTH)


@pytest.fixture
def other_case(client, people) -> str:
    """A case in street B."""
    return report(client, people["dispatcher_b"], data.COMPOUNDS[4])


def send(client, headers, case_id, photo: bytes, *, name="photo.jpg", key=None, **form):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/incidents/{case_id}/photos", headers={**headers, **extra},
                       data={**form, "photo": (io.BytesIO(photo), name)}, content_type="multipart/form-data")


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_grid_worker_uploads_a_report_photo_and_a_retry_stores_nothing_more(client, district, people, folder,
                                                                              case):
    upload = corpus.jpeg(640, 480, exif=corpus.exif_with_gps())
    first = send(client, people["field_a1s"], case, upload, key="app-1", kind="report")
    assert first.status_code == 201, first.get_json()
    photo = first.get_json()
    report_seq = district.incidents.timeline(case)[0].seq
    assert photo["kind"] == "report" and photo["event"] == report_seq  # a report photo goes on the report entry
    assert (photo["width"], photo["height"], photo["content_type"]) == (480, 640, "image/jpeg")
    assert first.headers["Location"] == photo["url"] == f"/api/photos/{photo['sha256']}"
    # The app retries (same key), or sends the same photo again without a key: the same photo, 200.
    again = send(client, people["field_a1s"], case, upload, key="app-1", kind="report")
    assert again.status_code == 200 and again.get_json() == photo
    same = send(client, people["field_a1s"], case, upload, kind="report")
    assert same.status_code == 200 and same.get_json()["sha256"] == photo["sha256"]
    assert [p.name for p in files_in(folder)] == sorted([f"{photo['sha256']}.jpg", f"{photo['sha256']}.thumb.jpg"])
    assert len(district.photos.for_incident(case)) == 1
    # The same key with another photo is a mistake of the sender's.
    other = send(client, people["field_a1s"], case, corpus.jpeg(seed=7), key="app-1", kind="report")
    assert_problem(other, 422, "Idempotency-Key")
    assert len(files_in(folder)) == 2 and len(district.photos.for_incident(case)) == 1
    records, total = district.audit.records(action="incident.photo", target=case)
    assert total == 1 and records[0].detail == {"sha256": photo["sha256"], "kind": "report", "event": report_seq}


def test_eight_concurrent_retries_of_one_upload_store_one_photo(district, folder, people, case):
    app = photo_app(district, folder)
    upload = corpus.jpeg(800, 600)
    barrier = threading.Barrier(8)
    answers: list[tuple[int, str | None]] = []

    def post(n: int) -> None:
        client = app.test_client()  # one per thread: a test client keeps per-client state
        barrier.wait()
        # Half retry with the app's key, half send the same bytes without one: all are the one photo.
        resp = send(client, people["field_a1s"], case, upload, key="phone-7-photo-1" if n % 2 else None,
                    kind="report")
        answers.append((resp.status_code, (resp.get_json(silent=True) or {}).get("sha256")))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200] * 7 + [201], answers
    assert len({sha for _, sha in answers}) == 1
    assert len(district.photos.for_incident(case)) == 1 and len(files_in(folder)) == 2
    assert list(folder.rglob(".*.part")) == []


def test_the_case_lists_its_photos_and_serves_them_with_safe_headers(client, district, people, case):
    before = send(client, people["field_a1s"], case, corpus.png(640, 480), name="x.png", kind="before")
    assert before.status_code == 201
    seq = district.incidents.timeline(case)[0].seq
    after = send(client, people["dispatcher"], case, corpus.webp(640, 480), name="a.webp", kind="after", event=str(seq))
    assert after.status_code == 201 and after.get_json()["event"] == seq
    assert before.get_json()["event"] is None  # no handling yet: on the case as a whole
    shown = client.get(f"/api/incidents/{case}", headers=people["viewer"]).get_json()["properties"]
    assert [p["kind"] for p in shown["photos"]] == ["before", "after"]
    assert [e["seq"] for e in shown["timeline"]] == [seq]
    listed = client.get(f"/api/incidents/{case}/photos", headers=people["viewer"]).get_json()
    assert listed == {"id": case, "photos": shown["photos"]}
    for p, mime in zip(shown["photos"], ("image/png", "image/webp"), strict=True):
        full = client.get(p["url"], headers=people["viewer"])
        assert full.status_code == 200 and full.mimetype == mime
        assert full.headers["X-Content-Type-Options"] == "nosniff"
        assert full.headers["Content-Disposition"] == f'inline; filename="{p["sha256"][:16]}.{mime.split("/")[1]}"'
        assert "immutable" in full.headers["Cache-Control"] and "private" in full.headers["Cache-Control"]
        assert "sandbox" in full.headers["Content-Security-Policy"]
        assert Image.open(io.BytesIO(full.data)).size == (p["width"], p["height"])
        thumb = client.get(p["thumb_url"], headers=people["viewer"])
        assert thumb.status_code == 200 and thumb.mimetype == mime and len(thumb.data) < len(full.data)
        again = client.get(p["url"], headers={**people["viewer"], "If-None-Match": full.headers["ETag"]})
        assert again.status_code == 304


def test_a_new_photo_changes_the_cases_etag(client, people, case):
    first = client.get(f"/api/incidents/{case}", headers=people["viewer"])
    assert send(client, people["field_a1s"], case, corpus.jpeg(), kind="report").status_code == 201
    second = client.get(f"/api/incidents/{case}", headers={**people["viewer"],
                                                               "If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and len(second.get_json()["properties"]["photos"]) == 1


def test_every_hostile_file_is_refused_and_nothing_is_stored(client, district, people, folder, case):
    for hostile in corpus.hostile_corpus():
        resp = send(client, people["field_a1s"], case, hostile.data, name=hostile.name, key=hostile.name,
                    kind="report")
        body = assert_problem(resp, hostile.status, "photo")
        assert len(body["detail"]) > 10, hostile.name
    assert files_in(folder) == [] and district.photos.for_incident(case) == []
    assert district.counts()["photos"] == 0


def test_bad_requests_name_what_is_wrong(client, people, folder, case):
    headers = people["field_a1s"]
    url = f"/api/incidents/{case}/photos"
    assert_problem(client.post(url, headers=headers, data=corpus.jpeg(), content_type="image/jpeg"), 415, "photo")
    assert_problem(client.post(url, headers=headers, data={"kind": "report"}, content_type="multipart/form-data"),
                   400, "photo")
    assert_problem(send(client, headers, case, corpus.jpeg(), kind="selfie"), 422, "kind")
    assert_problem(send(client, headers, case, corpus.jpeg(), event="999999"), 422, "event")
    assert_problem(send(client, headers, case, corpus.jpeg(), event="first"), 400, "event")
    assert_problem(send(client, headers, case, corpus.jpeg(), caption="x"), 400)
    assert_problem(send(client, headers, case, corpus.jpeg(), key="k" * 201), 400, "Idempotency-Key")
    assert_problem(send(client, headers, "no-such-case", corpus.jpeg()), 404, "id")
    assert files_in(folder) == []


def test_a_body_over_the_limit_is_413(client, people, folder, case):
    big = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 + 1)
    assert_problem(send(client, people["field_a1s"], case, big), 413, "photo")
    assert files_in(folder) == []


def test_a_file_just_over_the_photo_limit_is_413(district, folder, people, case):
    upload = corpus.jpeg(640, 480)
    app = photo_app(district, folder, max_mb=(len(upload) - 100) / 1024 / 1024)
    assert_problem(send(app.test_client(), people["field_a1s"], case, upload), 413, "photo")
    assert files_in(folder) == []


def test_a_timeline_entry_takes_at_most_per_entry_photos(district, folder, people, case):
    client = photo_app(district, folder, per_entry=2).test_client()
    for seed in (1, 2):
        assert send(client, people["field_a1s"], case, corpus.jpeg(seed=seed), kind="report").status_code == 201
    assert_problem(send(client, people["field_a1s"], case, corpus.jpeg(seed=3), kind="report"), 422, "event")
    assert len(files_in(folder)) == 4  # the refused photo's files were removed
    assert send(client, people["field_a1s"], case, corpus.jpeg(seed=3), kind="other").status_code == 201


# -- jurisdiction ----------------------------------------------------------------------------------------------


def test_outside_the_jurisdiction_a_photo_is_as_absent_as_a_missing_one(client, people, folder, case, other_case):
    photo = send(client, people["field_a1s"], case, corpus.jpeg(), kind="report").get_json()
    missing = "0" * 64
    for who in ("field_a1n", "dispatcher_b", "viewer_b"):
        for url in (photo["url"], photo["thumb_url"], f"/api/incidents/{case}/photos"):
            assert_problem(client.get(url, headers=people[who]), 404)
        assert_problem(client.get(f"/api/photos/{missing}", headers=people[who]), 404, "sha256")
    # Nor may they attach one to it.
    assert_problem(send(client, people["field_a1n"], case, corpus.jpeg(seed=5)), 404, "id")
    assert_problem(send(client, people["dispatcher_b"], case, corpus.jpeg(seed=5)), 404, "id")
    assert len(files_in(folder)) == 2
    # The same bytes on a case of street B are that street's to see, through their own case.
    theirs = send(client, people["dispatcher_b"], other_case, corpus.jpeg(), kind="report")
    assert theirs.status_code == 201 and theirs.get_json()["sha256"] == photo["sha256"]
    assert client.get(photo["url"], headers=people["viewer_b"]).status_code == 200
    assert client.get(photo["url"], headers=people["viewer"]).status_code == 200
    assert_problem(client.get("/api/photos/not-a-hash", headers=people["viewer"]), 404, "sha256")


def test_readers_may_not_upload(client, people, folder, case):
    for who in ("viewer", "liaison"):
        assert_problem(send(client, people[who], case, corpus.jpeg()), 403)
    assert files_in(folder) == []


# -- a full disk ------------------------------------------------------------------------------------------------

FULL_DISK = textwrap.dedent("""
    import io, json, subprocess, sys
    from pathlib import Path
    folder, url, case, token, size = sys.argv[1:6]
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder], check=True)
    from mapserver import create_app
    from mapserver.config import Settings, StoreSettings
    from mapserver.photos.settings import PhotoSettings
    from mapserver.store import open_store
    from tests import photo_corpus as corpus
    store = open_store(url)
    app = create_app(Settings(store=StoreSettings(url=url), photos=PhotoSettings(dir=folder)), store=store)
    resp = app.test_client().post(f"/api/incidents/{case}/photos", headers={"Authorization": f"Bearer {token}"},
                                  data={"kind": "report", "photo": (io.BytesIO(corpus.jpeg(1200, 900, quality=95)),
                                                                    "p.jpg")},
                                  content_type="multipart/form-data")
    left = sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))
    print(json.dumps({"status": resp.status_code, "body": resp.get_json(), "left": left,
                      "rows": store.counts()["photos"]}))
""")


@pytest.mark.parametrize("room", ["none", "photo-only"])
def test_a_full_disk_answers_507_and_leaves_no_file_or_row(district, people, tmp_path, room, case):
    """A tmpfs too small for the photo (or for its thumbnail after it), mounted in a user and mount namespace of a
    child process: the writes really fail with ENOSPC."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare(1) is needed to mount a small tmpfs without privileges")
    prepared = prepare(corpus.jpeg(1200, 900, quality=95), PhotoSettings())
    page = 4096
    pages = -(-len(prepared.data) // page)
    size = (pages // 2 if room == "none" else pages + max(1, -(-len(prepared.thumb) // page) // 2)) * page
    assert len(prepared.thumb) > page  # so that "photo-only" leaves room for the photo, not its thumbnail
    folder = tmp_path / "full"
    folder.mkdir()
    token = people["field_a1s"]["Authorization"].split()[1]
    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK, encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", sys.executable, str(script),
                          str(folder), district.url, case, token, str(size)],
                         capture_output=True, text=True, timeout=120, cwd=root, env={"PYTHONPATH": str(root),
                                                                                      "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-3000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["status"] == 507, answer
    assert answer["body"]["status"] == 507 and "full" in answer["body"]["detail"]
    assert str(folder) not in answer["body"]["detail"]  # the server's paths are not the client's business
    assert answer["left"] == [] and answer["rows"] == 0
    assert district.photos.for_incident(case) == []
