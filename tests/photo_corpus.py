"""Photos for the tests, made here with Pillow and by hand: good ones (with EXIF, GPS and an orientation to apply)
and a hostile corpus, each file with the name it is sent under and why it must be refused.

Nothing is read from disk: every file is built in memory, so the corpus is the same on every machine.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def noisy(width: int, height: int, *, seed: int = 1, mode: str = "RGB") -> Image.Image:
    """A photo-like picture: a gradient under noise (it compresses as a photo does, not as a flat colour)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 215, width, dtype=np.float32)[None, :, None]
    pixels = ramp + rng.normal(0, 25, (height, width, 3)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return image.convert(mode) if mode != "RGB" else image


def exif_with_gps(orientation: int = 6) -> Image.Exif:
    """EXIF of a phone photo: an orientation, a camera, a comment and a GPS position in Zhoukou."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "Huawei"
    exif[0x9286] = b"ASCII\x00\x00\x00secret comment"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (33.0, 37.0, 12.5)
    gps[3], gps[4] = "E", (114.0, 38.0, 40.1)
    return exif


def jpeg(width: int = 640, height: int = 480, *, quality: int = 90, exif: Image.Exif | None = None,
         seed: int = 1, **options: object) -> bytes:
    out = io.BytesIO()
    noisy(width, height, seed=seed).save(out, "JPEG", quality=quality, exif=exif if exif is not None else b"",
                                         **options)
    return out.getvalue()


def png(width: int = 320, height: int = 240, *, mode: str = "RGBA", text: str | None = None, seed: int = 2) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    out = io.BytesIO()
    noisy(width, height, seed=seed, mode=mode).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def webp(width: int = 320, height: int = 240, *, exif: Image.Exif | None = None, seed: int = 3) -> bytes:
    out = io.BytesIO()
    noisy(width, height, seed=seed).save(out, "WEBP", quality=80, exif=exif if exif is not None else b"")
    return out.getvalue()


def other(fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    noisy(64, 48).save(out, fmt, **options)
    return out.getvalue()


def mpo() -> bytes:
    """A multi-picture JPEG (MPF), as phones write with a depth or gain map after the photo."""
    out = io.BytesIO()
    noisy(320, 240).save(out, "MPO", save_all=True, append_images=[noisy(160, 120, seed=9)])
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG that decompresses to ``width`` × ``height`` greyscale pixels (10 gigapixels by default): valid
    chunks and checksums, its one IDAT holding the start of a stream of zeros."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compressobj(9)
    data = rows.compress(b"\x00" * (width + 1) * 200) + rows.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def png_moderate_bomb() -> bytes:
    """A real, complete PNG of 8,000 × 8,000 one-bit pixels: 64 megapixels, over the 50 megapixel limit, yet
    under Pillow's own bomb threshold, so only the configured limit stops it."""
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")
    return out.getvalue()


def jpeg_dimension_bomb() -> bytes:
    """A JPEG whose frame header claims 65,000 × 65,000 pixels over a few bytes of data."""
    data = bytearray(jpeg(16, 16))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def jpeg_with_segments(marker: int, payload: bytes, count: int) -> bytes:
    """A JPEG with ``count`` extra segments of ``marker`` (APPn or COM) carrying ``payload`` after its SOI."""
    base = jpeg(64, 48)
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return base[:2] + segment * count + base[2:]


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<html><script>alert(1)</script></html>")
    return out.getvalue()


def animated_webp() -> bytes:
    out = io.BytesIO()
    frames = [noisy(64, 48, seed=s) for s in range(3)]
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def png_bad_crc() -> bytes:
    data = bytearray(png(64, 48))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    return bytes(data)


def png_short_idat() -> bytes:
    """A PNG whose chunks are all whole and checksummed but whose pixel stream stops a third of the way."""
    whole = png(64, 48, mode="RGB")
    image_data = b""
    pos = 8
    while pos < len(whole):
        (length,) = struct.unpack(">I", whole[pos:pos + 4])
        if whole[pos + 4:pos + 8] == b"IDAT":
            image_data += whole[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(image_data)
    cut = zlib.compress(raw[: len(raw) // 3])
    header = whole[8:8 + 25]
    return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", cut) + _chunk(b"IEND", b"")


@dataclass(frozen=True)
class Hostile:
    """A file that must be refused: its name as sent, its bytes, and the status it must get (415: not a JPEG, PNG
    or WebP; 422: one, but damaged or hostile)."""

    name: str
    data: bytes
    status: int
    why: str


def hostile_corpus() -> list[Hostile]:
    """The files every upload path must refuse, with nothing stored."""
    good_jpeg, good_png, good_webp = jpeg(320, 240), png(64, 48), webp(64, 48)
    return [
        Hostile("notes.jpg", "现场情况说明：楼道堆物\n".encode() * 20, 415, "text named as a JPEG"),
        Hostile("page.png", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", 415,
                "HTML named as a PNG"),
        Hostile("vector.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
                415, "an SVG named as a JPEG"),
        Hostile("anim.jpg", other("GIF"), 415, "a GIF"),
        Hostile("scan.jpg", other("BMP"), 415, "a BMP"),
        Hostile("scan.png", other("TIFF"), 415, "a TIFF"),
        Hostile("icon.png", other("ICO"), 415, "an icon"),
        Hostile("empty.jpg", b"", 422, "zero bytes"),
        Hostile("archive.jpg", zip_archive(), 415, "a ZIP archive named as a JPEG"),
        Hostile("doc.jpg", b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", 415, "a PDF named as a JPEG"),
        Hostile("iphone.jpg", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, 415,
                "a HEIC photo"),
        Hostile("bomb.png", png_bomb(), 422, "a PNG decompression bomb (10 gigapixels)"),
        Hostile("bomb64.png", png_moderate_bomb(), 422, "a complete 64-megapixel PNG"),
        Hostile("bomb.jpg", jpeg_dimension_bomb(), 422, "a JPEG claiming 65,000 × 65,000 pixels"),
        Hostile("huge-exif.jpg", jpeg_with_segments(0xE1, b"Exif\x00\x00" + b"\x00" * 65_000, 32), 422,
                "a JPEG with 2 MB of EXIF segments"),
        Hostile("cut.jpg", good_jpeg[: len(good_jpeg) // 2], 422, "a truncated JPEG"),
        Hostile("cut.png", good_png[: len(good_png) - 30], 422, "a truncated PNG"),
        Hostile("cut.webp", good_webp[: len(good_webp) // 2], 422, "a truncated WebP"),
        Hostile("short.png", png_short_idat(), 422, "a PNG whose pixel data stops early"),
        Hostile("crc.png", png_bad_crc(), 422, "a PNG failing its checksum"),
        Hostile("polyglot.jpg", good_jpeg + zip_archive(), 422, "a JPEG followed by a ZIP"),
        Hostile("trailing.png", good_png + b"<html><script>alert(1)</script></html>", 422, "a PNG with HTML after it"),
        Hostile("trailing.webp", good_webp + b"PK\x03\x04junk", 422, "a WebP with bytes after its container"),
        Hostile("comment.jpg", jpeg_with_segments(0xFE, b"<script>alert(document.cookie)</script>", 1), 422,
                "a JPEG whose comment is a script"),
        Hostile("php.jpg", jpeg_with_segments(0xE1, b"Exif\x00\x00<?php system($_GET['c']); ?>", 1), 422,
                "a JPEG carrying PHP in its EXIF"),
        Hostile("zipinside.jpg", jpeg_with_segments(0xFE, zip_archive(), 1), 422, "a JPEG with a ZIP in a comment"),
        Hostile("header.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40, 422, "a JPEG start and nothing of an image"),
        Hostile("animated.webp", animated_webp(), 422, "an animated WebP"),
    ]
