"""Video linkage (视频联动) on both backends: stream and snapshot addresses checked as http(s) URLs on import and on
edit (422 naming the row or field), set by administrators only, never answered to a role without video rights by
any route; and the cameras a case lists (online first, then the nearest within ``video.nearby_m``), checked against
a sector test of this file's own (plane trigonometry, not the production geometry)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest
from shapely.geometry import Point

from mapserver import create_app
from mapserver.config import Settings, StoreSettings
from mapserver.errors import Problem
from mapserver.importer import import_layer
from mapserver.model import Camera, CameraVideo
from mapserver.roles import ROLES, VIDEO
from mapserver.video.addresses import url_problem
from mapserver.video.settings import VideoSettings
from tests import samples
from tests.test_api import assert_problem

HOST = "10.77.0.1"  # the video platform of these tests: its name must never reach a role without video rights
STREAM_PATH = "/live/41160200001320000001/index.m3u8"
STREAM = f"http://{HOST}:8080{STREAM_PATH}"
SNAPSHOT = f"https://{HOST}/snap/41160200001320000001.jpg"
T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)
REFUSED = {
    "javascript:alert(document.cookie)": "not javascript:",
    "JavaScript:alert(1)": "not javascript:",
    "data:application/vnd.apple.mpegurl;base64,I0VYVE0zVQ==": "not data:",
    "ftp://10.77.0.1/live.m3u8": "not ftp:",
    "rtsp://10.77.0.1:554/ch1": "not rtsp:",
    "file:///etc/passwd": "not file:",
    "//10.77.0.1/live.m3u8": "no scheme",
    "http:///live.m3u8": "must name a host",
    "http://admin:12345@10.77.0.1/live.m3u8": "user name or password",
    "http://10.77.0.1/live .m3u8": "blanks",
    'http://10.77.0.1/"onerror="x': "quotes",
    "http://10.77.0.1:99999/live.m3u8": "not a valid URL",
    "http://10.77.0.1/" + "a" * 2000: "characters long",
}


@pytest.mark.parametrize("address", [STREAM, SNAPSHOT, "https://video.zongzhi.local/hls/1.m3u8?token=a%20b",
                                     "http://[fd00::5]:8080/live.m3u8", None, ""])
def test_http_and_https_addresses_are_accepted(address):
    assert url_problem(address) is None


@pytest.mark.parametrize("address, reason", sorted(REFUSED.items()))
def test_anything_but_an_http_or_https_url_is_refused_with_the_reason(address, reason):
    assert reason in (url_problem(address) or "")


def test_a_non_text_address_is_refused():
    assert "as text" in url_problem(42)


# -- import ----------------------------------------------------------------------------------------------------------


def cameras_csv(tmp_path, rows: list[tuple[str, str, str]], heading=("stream_url", "snapshot_url")):
    lines = [f"code,name,lon,lat,direction_deg,fov_deg,range_m,{heading[0]},{heading[1]}"]
    for n, (code, stream, snapshot) in enumerate(rows):
        lines.append(f"{code},点位{n},{114.61 + n * 1e-4},33.61,90,60,80,{stream},{snapshot}")
    path = tmp_path / "cameras.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cameras_import_with_their_stream_and_snapshot_addresses(store, tmp_path):
    path = cameras_csv(tmp_path, [("C1", STREAM, SNAPSHOT), ("C2", "", ""), ("C3", STREAM, "")],
                       heading=("视频流地址", "抓图地址"))
    report = import_layer(store, "cameras", path)
    assert report.written == 3 and not any("not imported" in n for n in report.notes)
    assert store.camera_video.get("C1") == CameraVideo("C1", STREAM, SNAPSHOT)
    assert store.camera_video.get("C2") == CameraVideo("C2", None, None)
    assert store.camera_video.get("C3") == CameraVideo("C3", STREAM, None)
    assert store.camera_video.with_stream(["C1", "C2", "C3", "C9"]) == {"C1", "C3"}
    # The camera records themselves know nothing of it.
    assert not hasattr(store.layers.get("cameras", "C1"), "stream_url")


def test_a_bad_address_refuses_the_whole_import_naming_each_row_and_field(store, tmp_path):
    path = cameras_csv(tmp_path, [("C1", STREAM, SNAPSHOT), ("C2", "javascript:alert(1)", ""),
                                  ("C3", STREAM, "data:image/png;base64,iVBORw0KGgo="),
                                  ("C4", "ftp://10.77.0.1/a", "")])
    with pytest.raises(Problem) as caught:
        import_layer(store, "cameras", path)
    assert caught.value.status == 422
    found = [(e["row"], e.get("id"), e["field"]) for e in caught.value.errors]
    assert found == [(2, "C2", "stream_url"), (3, "C3", "snapshot_url"), (4, "C4", "stream_url")]
    assert "javascript:" in caught.value.errors[0]["reason"] and "ftp:" in caught.value.errors[2]["reason"]
    assert store.layers.count("cameras") == 0 and store.counts()["camera_video"] == 0  # nothing written


def test_a_mapped_stream_column_is_read_and_a_missing_one_refused(store, tmp_path):
    path = cameras_csv(tmp_path, [("C1", STREAM, SNAPSHOT)], heading=("hls", "jpg"))
    with pytest.raises(Problem) as caught:
        import_layer(store, "cameras", path, mapping={"stream_url": "nope"})
    assert caught.value.status == 400 and caught.value.param == "map"
    import_layer(store, "cameras", path, mapping={"stream_url": "hls", "snapshot_url": "jpg"})
    assert store.camera_video.get("C1") == CameraVideo("C1", STREAM, SNAPSHOT)


# -- the API ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def video_app(store):
    settings = Settings(store=StoreSettings(url=store.url),
                        video=VideoSettings(stream_origins=[f"http://{HOST}:8080"], nearby_m=250, nearby_limit=3))
    app = create_app(settings, store=store)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def web(video_app):
    return video_app.test_client()


@pytest.fixture
def city(store):
    samples.load_all(store)
    return store


def test_an_administrator_sets_and_clears_the_addresses_and_the_change_is_audited(web, city, tokens):
    code = samples.CAMERAS[0].code
    resp = web.put(f"/api/cameras/{code}/video", json={"stream_url": STREAM, "snapshot_url": SNAPSHOT},
                   headers=tokens["admin"])
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["stream_url"], body["snapshot_url"]) == (STREAM, SNAPSHOT)
    assert body["stream_allowed"] is True and body["snapshot_allowed"] is False  # https://HOST is not configured
    assert resp.headers["Cache-Control"] == "no-store"
    web.put(f"/api/cameras/{code}/video", json={"snapshot_url": None}, headers=tokens["admin"])
    assert city.camera_video.get(code) == CameraVideo(code, STREAM, None)  # a field left out keeps its address
    records, _ = city.audit.records(action="camera.video")
    assert [r.target for r in records] == [code, code]
    assert records[0].detail["after"] == {"stream_url": STREAM, "snapshot_url": None}
    web.put(f"/api/cameras/{code}/video", json={"stream_url": None}, headers=tokens["admin"])
    assert city.counts()["camera_video"] == 0


def test_an_edit_with_a_bad_address_is_a_422_naming_the_field_and_writes_nothing(web, city, tokens):
    code = samples.CAMERAS[0].code
    for field, address in [("stream_url", "javascript:alert(1)"),
                           ("snapshot_url", "data:image/png;base64,iVBORw0KGgo="),
                           ("stream_url", "ftp://10.77.0.1/live.m3u8"), ("snapshot_url", "ftp://10.77.0.1/a.jpg"),
                           ("stream_url", 7)]:
        resp = web.put(f"/api/cameras/{code}/video", json={"stream_url": STREAM, field: address},
                       headers=tokens["admin"])
        problem = assert_problem(resp, 422, param=field)
        assert problem["errors"][0]["field"] == field and field in problem["detail"]
    assert city.counts()["camera_video"] == 0 and city.audit.records(action="camera.video")[1] == 0


def test_edits_are_for_administrators_and_known_cameras_only(web, city, tokens):
    code = samples.CAMERAS[0].code
    for role in ROLES:
        if role != "admin":
            assert_problem(web.put(f"/api/cameras/{code}/video", json={"stream_url": STREAM}, headers=tokens[role]),
                           403)
    assert_problem(web.put("/api/cameras/no-such/video", json={"stream_url": STREAM}, headers=tokens["admin"]), 404)
    assert_problem(web.put(f"/api/cameras/{code}/video", json={"url": STREAM}, headers=tokens["admin"]), 400)
    assert_problem(web.put(f"/api/cameras/{code}/video", json=[STREAM], headers=tokens["admin"]), 400)
    assert city.counts()["camera_video"] == 0


def test_only_the_roles_with_video_rights_read_the_addresses(web, city, tokens):
    code = samples.CAMERAS[0].code
    city.camera_video.set(CameraVideo(code, STREAM, SNAPSHOT), at=T0)
    assert {"viewer", "dispatcher", "liaison", "admin"} == VIDEO
    for role in ROLES:
        resp = web.get(f"/api/cameras/{code}/video", headers=tokens[role])
        if role in VIDEO:
            assert resp.status_code == 200 and resp.get_json()["stream_url"] == STREAM, role
        else:
            assert_problem(resp, 403)
    assert_problem(web.get("/api/cameras/no-such/video", headers=tokens["viewer"]), 404)
    other = samples.CAMERAS[1].code
    assert web.get(f"/api/cameras/{other}/video", headers=tokens["viewer"]).get_json()["stream_url"] is None


def _get_routes(app) -> list[str]:
    """Every GET route of the app without path parameters (the page, the API, the OGC API, the desk pages)."""
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/static")})


def test_no_answer_to_a_role_without_video_rights_carries_an_address(web, video_app, city, tokens):
    for camera in samples.CAMERAS:
        city.camera_video.set(CameraVideo(camera.code, STREAM, SNAPSHOT), at=T0)
    case = web.post("/api/incidents", headers=tokens["dispatcher"], json={
        "category": "disputes", "severity": "general", "description": "楼道堆物",
        "point": {"lon": 114.6105, "lat": 33.61}}).get_json()["id"]
    code = samples.CAMERAS[0].code
    paths = [*_get_routes(video_app), f"/api/cameras/{code}", "/api/cameras?bbox=114,33,115,34",
             "/api/screen/layers/cameras?bbox=114,33,115,34", "/api/screen/layers/cameras?window=7d",
             "/ogc/collections/cameras/items", f"/ogc/collections/cameras/items/{code}",
             "/api/export/cameras.geojson", "/api/export/cameras.csv", "/api/export/cameras.gpkg",
             f"/api/incidents/{case}", f"/api/incidents/{case}/cameras", f"/desk/cases/{case}",
             f"/api/cameras/{code}/video", "/api/audit"]
    asked = 0
    for role in ROLES:
        for path in paths:
            resp = web.get(path, headers=tokens[role])
            data = resp.get_data()
            asked += 1
            if role in VIDEO and path == f"/api/cameras/{code}/video":
                assert STREAM.encode() in data
            elif role == "admin" and path == "/api/audit":
                continue  # the audit trail of a change of addresses, for administrators
            elif role in VIDEO:  # the pages name the configured video host to the player, never an address
                assert STREAM_PATH.encode() not in data and SNAPSHOT.encode() not in data, (role, path)
            else:
                assert HOST.encode() not in data, (role, path, resp.status_code)
    assert asked > 60
    # Those without video rights are not told which cameras have a stream either, nor offered a panel.
    for role in ROLES:
        answer = web.get(f"/api/incidents/{case}/cameras", headers=tokens[role]).get_json()
        assert all(("video" in c) == (role in VIDEO) for c in answer["covering"] + answer["nearby"]), role


def test_the_pages_policy_names_the_configured_stream_hosts(web, city, tokens):
    case = web.post("/api/incidents", headers=tokens["dispatcher"], json={
        "category": "disputes", "severity": "general", "point": {"lon": 114.6105, "lat": 33.61}}).get_json()["id"]
    for path in ("/", f"/desk/cases/{case}"):
        policy = web.get(path, headers=tokens["dispatcher"]).headers["Content-Security-Policy"]
        directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
        assert directives["media-src"] == ["'self'", "blob:", f"http://{HOST}:8080"], path
        assert f"http://{HOST}:8080" in directives["connect-src"] and f"http://{HOST}:8080" in directives["img-src"]
        assert "'unsafe-eval'" not in policy and "*" not in policy


# -- the cameras that see a case ---------------------------------------------------------------------------------------

CENTRE = (114.6250, 33.6250)
_A, _F = 6_378_137.0, 1 / 298.257223563  # the WGS-84 ellipsoid
_E2 = _F * (2 - _F)
_S = math.sin(math.radians(CENTRE[1]))
MERIDIAN_M = _A * (1 - _E2) / (1 - _E2 * _S * _S) ** 1.5  # radii of curvature at CENTRE: within 350 m of it, a
PRIME_M = _A / math.sqrt(1 - _E2 * _S * _S)  # plane with these scales measures to centimetres


def _plane(lon: float, lat: float) -> tuple[float, float]:
    """(east, north) metres of a point from CENTRE on the local plane."""
    east = math.radians(lon - CENTRE[0]) * PRIME_M * math.cos(math.radians(CENTRE[1]))
    return east, math.radians(lat - CENTRE[1]) * MERIDIAN_M


def _sees(camera: Camera) -> tuple[bool, float, float]:
    """(whether the camera's view covers CENTRE, how far inside or outside its nearest edge, metres or degrees;
    distance to CENTRE in metres), by plane trigonometry."""
    east, north = _plane(camera.geom.x, camera.geom.y)
    distance = math.hypot(east, north)
    reach = camera.range_m or 50.0
    if camera.direction_deg is None or camera.fov_deg is None:
        return distance <= reach, abs(distance - reach), distance
    bearing = math.degrees(math.atan2(-east, -north)) % 360  # from the camera to the centre, clockwise from north
    off = abs((bearing - camera.direction_deg + 180) % 360 - 180)
    margin = min(abs(distance - reach), abs(off - camera.fov_deg / 2) * math.pi / 180 * distance)
    return distance <= reach and off <= camera.fov_deg / 2, margin, distance


def _random_cameras(seed: int, n: int) -> list[Camera]:
    """Cameras within 350 m of CENTRE, none within 2 m of a view's edge or of 250 m (the nearby distance)."""
    rng = random.Random(seed)
    out: list[Camera] = []
    while len(out) < n:
        dist, angle = 350 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        lon = CENTRE[0] + math.degrees(dist * math.sin(angle) / (PRIME_M * math.cos(math.radians(CENTRE[1]))))
        lat = CENTRE[1] + math.degrees(dist * math.cos(angle) / MERIDIAN_M)
        circle = rng.random() < 0.15
        camera = Camera(code=f"C{len(out):03d}", name=f"点位{len(out)}", geom=Point(lon, lat),
                        direction_deg=None if circle else rng.uniform(0, 359.9),
                        fov_deg=None if circle else rng.uniform(20, 120), range_m=rng.choice([None, 60.0, 120.0,
                                                                                              250.0, 400.0]),
                        status=rng.choice(["online", "online", "online", "offline", "fault"]))
        _, margin, distance = _sees(camera)
        if margin > 2.0 and abs(distance - 250) > 2.0:
            out.append(camera)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_a_case_lists_the_cameras_whose_view_covers_it_online_first_then_the_nearest(web, store, tokens, seed):
    cameras = _random_cameras(seed, 160)
    store.layers.add("grids", samples.GRIDS)
    store.layers.add("cameras", cameras)
    for camera in cameras[::3]:
        store.camera_video.set(CameraVideo(camera.code, STREAM), at=T0)
    case = web.post("/api/incidents", headers=tokens["dispatcher"], json={
        "category": "disputes", "severity": "general", "point": {"lon": CENTRE[0], "lat": CENTRE[1]}})
    assert case.status_code == 201, case.get_json()
    answer = web.get(f"/api/incidents/{case.get_json()['id']}/cameras", headers=tokens["dispatcher"]).get_json()

    judged = [(camera, *_sees(camera)) for camera in cameras]
    covering = sorted((c for c, covers, _, _ in judged if covers),
                      key=lambda c: (c.status != "online", _sees(c)[2]))
    nearby = sorted((c for c, covers, _, d in judged if not covers and c.status == "online" and d <= 250),
                    key=lambda c: _sees(c)[2])[:3]
    assert len(covering) >= 3 and len(nearby) == 3  # the seeds give both kinds
    assert [c["code"] for c in answer["covering"]] == [c.code for c in covering]
    assert [c["code"] for c in answer["nearby"]] == [c.code for c in nearby]
    assert answer["nearby_m"] == 250
    for item, camera in zip(answer["covering"] + answer["nearby"], covering + nearby, strict=True):
        assert item["status"] == camera.status and abs(item["distance_m"] - _sees(camera)[2]) < 0.2
        assert item["video"] == (int(camera.code[1:]) % 3 == 0)


# -- the administrators' page --------------------------------------------------------------------------------------


def test_an_administrator_edits_the_addresses_on_the_page_and_bad_ones_are_said_there(store):
    from tests.logins import BROWSER, add_person, form_login, login_app, token_in

    samples.load_all(store)
    add_person(store, "boss", role="admin")
    add_person(store, "desk", role="dispatcher")
    client = login_app(store).test_client()
    code = samples.CAMERAS[0].code
    assert form_login(client, "boss").status_code == 303
    found = client.get(f"/admin/cameras/video?code={code}", headers=BROWSER)
    assert found.status_code == 200 and samples.CAMERAS[0].name in found.get_data(as_text=True)
    assert found.headers["Content-Security-Policy"].startswith("default-src 'none'")
    csrf = token_in(found.get_data(as_text=True))
    saved = client.post("/admin/cameras/video", headers=BROWSER, data={
        "csrf_token": csrf, "code": code, "stream_url": STREAM, "snapshot_url": ""})
    assert saved.status_code == 303 and "done=saved" in saved.headers["Location"]
    assert store.camera_video.get(code) == CameraVideo(code, STREAM, None)
    after = client.get(saved.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "视频地址已保存" in after and f'value="{STREAM}"' in after
    # javascript: is refused on the page, saying which field, with what was typed, and nothing written.
    refused = client.post("/admin/cameras/video?lang=en", headers=BROWSER, data={
        "csrf_token": csrf, "code": code, "stream_url": '"><script>alert(1)</script>', "snapshot_url": "data:x"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Stream address" in html and "Snapshot address" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert store.camera_video.get(code) == CameraVideo(code, STREAM, None)
    # No form without the session's token; none of it for another role.
    assert client.post("/admin/cameras/video", headers=BROWSER, data={"code": code, "stream_url": ""}).status_code \
        == 403
    other = login_app(store).test_client()
    assert form_login(other, "desk").status_code == 303
    assert other.get(f"/admin/cameras/video?code={code}", headers=BROWSER).status_code == 403
    assert client.get("/admin/cameras/video?code=nope", headers=BROWSER).status_code == 404
