"""Is an upload a photo? JPEG, PNG or WebP recognised by its content, within the size and pixel limits, whole, and
nothing else besides: a file that is also another format (a polyglot) or carries bytes after the image's end is
refused, as is one whose metadata outweighs a photo's or holds a page, a script, a document or an archive.

The structure is walked by hand first (markers, chunks, the RIFF size) because Pillow stops reading where the
image ends and says nothing of what follows; then Pillow decodes every pixel, which catches truncated and corrupt
data. A refusal is a :class:`~mapserver.errors.Problem`: 415 for what is not one of the three formats, 413 for
too many bytes, 422 for a damaged, hostile or oversized image of an accepted format.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

from mapserver.errors import Problem

MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
"""The accepted formats (Pillow's names) and the media type each is served as."""

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"

# What a refused file looks like, by its first bytes: named in the answer so the sender knows what went wrong.
_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"), (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"), (b"\x00\x00\x01\x00", "an icon file"), (b"\xff\x0a", "a JPEG XL image"),
)
# Text that has no business in a photo's metadata and makes a file readable as a page, a script or a document by a
# sniffing client; searched case-insensitively in the metadata only: compressed pixel data holds short strings like
# these by pure chance (one 4 MB photo in a hundred has a "<svg"), and re-encoding leaves none of its bytes.
_FOREIGN_TEXT = (b"<script", b"<html", b"<svg", b"<?php", b"<iframe", b"<body", b"%pdf-")
_ZIP_PARTS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header and the end of a central directory: a ZIP


@dataclass(frozen=True)
class CheckLimits:
    """What an upload may be: bytes in all, pixels decoded (width × height), bytes of metadata (EXIF, XMP, ICC,
    comments, text chunks)."""

    max_bytes: int
    max_pixels: int
    max_metadata_bytes: int


def refuse(status: int, reason: str) -> Problem:
    """The problem that refuses an upload, naming the field it came in."""
    return Problem(status, reason, param="photo")


def check_photo(data: bytes, limits: CheckLimits) -> Image.Image:
    """The upload decoded, every pixel loaded, if it is a whole JPEG, PNG or WebP within ``limits`` with nothing
    else in the file; else a 413, 415 or 422 :class:`Problem` saying why."""
    if not data:
        raise refuse(422, "the file is empty")
    if len(data) > limits.max_bytes:
        raise refuse(413, f"the photo is {len(data):,} bytes; at most {limits.max_bytes:,} are accepted")
    kind = sniff(data)
    metadata = image_end_and_metadata(kind, data)
    size = sum(len(part) for part in metadata)
    if size > limits.max_metadata_bytes:
        raise refuse(422, f"the photo carries {size:,} bytes of metadata; at most {limits.max_metadata_bytes:,} "
                          "are accepted")
    _refuse_foreign_content(b"".join(metadata))
    return _decode(kind, data, limits.max_pixels)


def sniff(data: bytes) -> str:
    """The accepted format the content is (Pillow's name), by its first bytes; else a 415 naming what it looks
    like. The file's name and the request's Content-Type play no part."""
    if data.startswith(_JPEG):
        return "JPEG"
    if data.startswith(_PNG):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    looks = next((name for magic, name in _OTHER_FORMATS if data.startswith(magic)), None)
    if looks is None:
        head = data[:512].lstrip().lower()
        if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
            looks = "an SVG or XML document"
        elif head.startswith((b"<!doctype", b"<html")) or b"<html" in head:
            looks = "an HTML page"
        elif data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
            looks = "a HEIC or AVIF image"
        elif all(32 <= b < 127 or b in b"\t\r\n" for b in data[:512]):
            looks = "text"
    found = f"the file is {looks}" if looks else "the file is not an image"
    raise refuse(415, f"{found}; only JPEG, PNG and WebP photos are accepted (recognised by their content)")


def image_end_and_metadata(kind: str, data: bytes) -> list[bytes]:
    """Walk the file's structure to its end; 422 when it ends early, is malformed or has bytes after the image's
    end (other than zero padding). Returns its metadata: the bodies of its EXIF, XMP, ICC, comment and text parts."""
    walk = {"JPEG": _walk_jpeg, "PNG": _walk_png, "WEBP": _walk_webp}[kind]
    try:
        end, metadata = walk(data)
    except (IndexError, ValueError, struct.error):
        raise refuse(422, f"the {kind} file is truncated or malformed") from None
    if data[end:].strip(b"\x00"):
        raise refuse(422, f"the file has {len(data) - end:,} bytes after the end of its {kind} image (a file that "
                          "is also something else is refused)")
    return metadata


def _walk_jpeg(data: bytes) -> tuple[int, list[bytes]]:
    """(offset after the last image's EOI, its APPn and COM segments). A multi-picture JPEG (MPF: the
    depth or gain maps phones append) is several JPEGs in a row: each is walked."""
    pos, metadata = 0, []
    while True:
        pos, found = _walk_one_jpeg(data, pos)
        metadata += found
        if not data.startswith(_JPEG, pos):
            return pos, metadata


def _walk_one_jpeg(data: bytes, pos: int) -> tuple[int, list[bytes]]:
    if data[pos:pos + 2] != b"\xff\xd8":
        raise IndexError
    pos += 2
    metadata = []
    n = len(data)
    while True:
        if data[pos] != 0xFF:
            raise IndexError
        while data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return pos, metadata
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # standalone markers
            continue
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if length < 2 or pos + length > n:
            raise IndexError
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            metadata.append(data[pos + 2:pos + length])
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker that is not a restart
            while True:
                pos = data.index(b"\xff", pos)
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1 if following == 0xFF else 2
                    continue
                break


def _walk_png(data: bytes) -> tuple[int, list[bytes]]:
    """(offset after IEND, its ancillary chunks other than transparency, gamma and colour). Every chunk's CRC is
    checked."""
    pos, metadata = len(_PNG), []
    kept = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"sBIT", b"bKGD"}
    while True:
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body_end = pos + 8 + length
        if body_end + 4 > len(data):
            raise IndexError
        (crc,) = struct.unpack(">I", data[body_end:body_end + 4])
        if zlib.crc32(data[pos + 4:body_end]) != crc:
            raise refuse(422, f"the PNG file is damaged (chunk {ctype.decode('latin-1')!r} fails its checksum)")
        if ctype not in kept:
            metadata.append(data[pos + 8:body_end])
        pos = body_end + 4
        if ctype == b"IEND":
            return pos, metadata


def _walk_webp(data: bytes) -> tuple[int, list[bytes]]:
    """(offset after the RIFF container, its chunks other than the image's: EXIF, XMP, ICCP and unknown ones)."""
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size
    if end > len(data) or size < 4:
        raise IndexError
    pos, metadata = 12, []
    image_chunks = (b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF")
    while pos < end:
        ctype, length = struct.unpack("<4sI", data[pos:pos + 8])
        if pos + 8 + length > end:
            raise IndexError
        if ctype not in image_chunks:
            metadata.append(data[pos + 8:pos + 8 + length])
        pos += 8 + length + (length & 1)
    return end, metadata


def _refuse_foreign_content(metadata: bytes) -> None:
    lowered = metadata.lower()
    for text in _FOREIGN_TEXT:
        if text in lowered:
            raise refuse(422, f"the file contains {text.decode()!r}: a file that is also a page, script or document "
                              "is refused")
    if all(part in metadata for part in _ZIP_PARTS):
        raise refuse(422, "the file contains a ZIP archive: a file that is also an archive is refused")


def _decode(kind: str, data: bytes, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
    except Image.DecompressionBombError:
        raise refuse(422, "the image has too many pixels (refused as a decompression bomb)") from None
    except Exception:  # Pillow raises many kinds on hostile headers; all mean the same to the sender
        raise refuse(422, f"the {kind} file cannot be read: its header is damaged") from None
    width, height = image.size
    if width * height > max_pixels:
        raise refuse(422, f"the image is {width} × {height} pixels; at most {max_pixels:,} pixels are accepted "
                          "(larger ones are refused as decompression bombs)")
    if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
        raise refuse(422, "the image is animated; a photo is one picture")
    try:
        image.load()  # every pixel: a truncated or corrupt stream fails here, not when the photo is shown
    except Exception:  # as above: a decoder's error on damaged data
        raise refuse(422, f"the {kind} image is truncated or its data is corrupt") from None
    if kind == "PNG" and not _png_rows_complete(data):
        raise refuse(422, "the PNG image is truncated: its pixel data stops before the last row")
    return image


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
"""Adam7's passes: (first column, first row, column step, row step)."""


def _png_rows_complete(data: bytes) -> bool:
    """Whether the PNG's compressed pixel stream holds every row its header promises, and ends there (Pillow takes
    a stream that ends early as a whole image with its last rows blank). Read after the pixel limit was checked."""
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    bits = _PNG_CHANNELS.get(colour, 4) * depth
    if interlace:
        passes = [(-(-(width - x0) // dx), -(-(height - y0) // dy)) for x0, y0, dx, dy in _ADAM7]
    else:
        passes = [(width, height)]
    expected = sum(h * (1 + (w * bits + 7) // 8) for w, h in passes if w > 0 and h > 0)
    stream = zlib.decompressobj()
    pos, total = len(_PNG), 0
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        if ctype == b"IDAT":
            chunk = data[pos + 8:pos + 8 + length]
            while chunk and total <= expected:
                total += len(stream.decompress(chunk, 1 << 20))
                chunk = stream.unconsumed_tail
        pos += 12 + length
    return total == expected and stream.eof
