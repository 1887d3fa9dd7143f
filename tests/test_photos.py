"""Photos by their content (mapserver/photos): a hostile corpus is refused with a reason; good photos are turned
upright and lose their EXIF, GPS and comments; thumbnails; files written whole under their hash; the folder from
the config file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mapserver.config import load_settings
from mapserver.errors import Problem
from mapserver.photos.files import PhotoFiles
from mapserver.photos.service import prepare
from mapserver.photos.settings import PhotoSettings
from tests import photo_corpus as corpus

SETTINGS = PhotoSettings()
HOSTILE = corpus.hostile_corpus()


def test_the_hostile_corpus_is_large_and_varied():
    assert len(HOSTILE) >= 20
    assert {h.status for h in HOSTILE} == {415, 422}
    assert len({h.name for h in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_each_hostile_file_is_refused_with_its_reason(hostile):
    with pytest.raises(Problem) as refused:
        prepare(hostile.data, SETTINGS)
    assert refused.value.status == hostile.status, (hostile.why, refused.value.detail)
    assert refused.value.param == "photo" and len(refused.value.detail) > 10


def stored(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_phone_jpeg_is_turned_upright_and_loses_exif_gps_and_comment():
    upload = corpus.jpeg(640, 480, exif=corpus.exif_with_gps(orientation=6))
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(corpus.GPS_IFD)  # the upload has a position
    photo = prepare(upload, SETTINGS)
    image = stored(photo.data)
    assert image.format == "JPEG" and image.size == (480, 640) == (photo.width, photo.height)  # rotated 90°
    assert not image.getexif() and "exif" not in image.info
    for text in (b"Huawei", b"secret comment", b"Exif\x00\x00"):
        assert text not in photo.data
    thumb = stored(photo.thumb)
    assert thumb.format == "JPEG" and max(thumb.size) == 320 and thumb.size == (240, 320)
    assert not thumb.getexif()


def test_the_stored_jpeg_keeps_about_the_uploads_size_and_is_named_by_its_hash():
    import hashlib

    upload = corpus.jpeg(800, 600, quality=75)
    photo = prepare(upload, SETTINGS)
    assert 0.8 < len(photo.data) / len(upload) < 1.2  # re-encoded with its own tables: no bloat
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    assert prepare(upload, SETTINGS).data == photo.data  # the same upload stores the same bytes


def test_png_text_and_webp_exif_are_removed():
    png = prepare(corpus.png(320, 240, text="GPS 33.62,114.65 张三 13800000000"), SETTINGS)
    assert b"13800000000" not in png.data and b"tEXt" not in png.data
    assert stored(png.data).mode == "RGBA" and stored(png.thumb).format == "PNG"
    webp = prepare(corpus.webp(320, 240, exif=corpus.exif_with_gps(orientation=8)), SETTINGS)
    image = stored(webp.data)
    assert image.format == "WEBP" and image.size == (240, 320) and not image.getexif()
    assert b"EXIF" not in webp.data and b"Huawei" not in webp.data


def test_a_multi_picture_jpeg_from_a_phone_is_accepted_as_its_first_picture():
    photo = prepare(corpus.mpo(), SETTINGS)
    assert photo.format == "JPEG" and (photo.width, photo.height) == (320, 240)
    assert stored(photo.data).format == "JPEG"


def test_the_limits_come_from_the_settings():
    upload = corpus.jpeg(400, 300)
    with pytest.raises(Problem) as large:
        prepare(upload, PhotoSettings(max_mb=len(upload) / 2 / 1024 / 1024))
    assert large.value.status == 413
    with pytest.raises(Problem) as many:
        prepare(upload, PhotoSettings(max_pixels=100_000))
    assert many.value.status == 422 and "400 × 300" in many.value.detail
    assert max(stored(prepare(upload, PhotoSettings(thumb_px=64)).thumb).size) == 64


def test_files_are_written_whole_once_under_their_hash(tmp_path):
    files = PhotoFiles(tmp_path / "photos")
    photo = prepare(corpus.jpeg(), SETTINGS)
    target = files.path(photo.sha256, photo.extension)
    assert target == tmp_path / "photos" / photo.sha256[:2] / f"{photo.sha256}.jpg"
    assert files.write(target, photo.data) is True
    assert files.write(target, photo.data) is False  # there already: the same bytes
    assert target.read_bytes() == photo.data and files.read(photo.sha256, "jpg") == photo.data
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left
    with pytest.raises(ValueError):
        files.path("../../etc/passwd", "jpg")


def test_the_folder_is_read_from_the_config_file_relative_to_it(tmp_path):
    config = tmp_path / "conf" / "config.yaml"
    config.parent.mkdir()
    config.write_text("photos:\n  dir: store/photos\n  max_mb: 4\n  max_pixels: 20000000\n", encoding="utf-8")
    settings = load_settings(config, env={})
    assert settings.photos.folder(settings.source) == tmp_path / "conf" / "store" / "photos"
    assert settings.photos.max_bytes == 4 * 1024 * 1024 and settings.photos.max_pixels == 20_000_000
    absolute = PhotoSettings(dir=str(tmp_path / "elsewhere"))
    assert absolute.folder(settings.source) == tmp_path / "elsewhere"


def test_the_shipped_config_keeps_photos_under_the_data_folder():
    settings = load_settings(Path(__file__).resolve().parent.parent / "config.yaml", env=dict(os.environ))
    folder = settings.photos.folder(settings.source)
    assert folder.parts[-2:] == ("data", "photos") and settings.photos.max_bytes == 10 * 1024 * 1024


def test_text_that_pixel_data_spells_by_chance_is_no_reason_to_refuse():
    """Compressed pixels hold short strings such as "<svg" by chance (about one 4 MB photo in a hundred): only the
    metadata, which re-encoding drops, is searched for pages, scripts and archives."""
    upload = bytearray(corpus.jpeg(640, 480))
    scan = upload.index(b"\xff\xda")
    middle = scan + (len(upload) - scan) // 2
    upload[middle:middle + 4] = b"<SVG"
    photo = prepare(bytes(upload), SETTINGS)
    assert b"<SVG" not in photo.data and stored(photo.data).size == (640, 480)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "I;16", "RGB", "RGBA"])
def test_png_of_every_common_mode_is_kept_with_its_look(mode):
    source = corpus.noisy(500, 400)
    image = source.convert("I").point(lambda v: v * 256).convert("I;16") if mode == "I;16" else source.convert(mode)
    out = io.BytesIO()
    image.save(out, "PNG", **({"transparency": 0} if mode == "P" else {}))
    photo = prepare(out.getvalue(), SETTINGS)
    kept, thumb = stored(photo.data), stored(photo.thumb)
    assert kept.size == (500, 400) and thumb.size == (320, 256)
    # The same picture: its mean grey within a few levels of the source's (a 16-bit one is scaled, not clipped).
    mean = np.asarray(source.convert("L"), dtype=float).mean()
    assert abs(np.asarray(kept.convert("L"), dtype=float).mean() - mean) < (30 if mode == "1" else 4), mode
