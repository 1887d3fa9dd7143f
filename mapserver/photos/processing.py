"""A checked photo made fit to keep: turned upright by its EXIF orientation, then re-encoded in its own format
without any metadata (EXIF with its GPS position, XMP, comments and text chunks are gone; the ICC colour profile
stays, it is how the colours are meant), and a thumbnail whose longest side is ``thumb_px`` pixels.

The stored bytes are what the SHA-256 names, so one photo uploaded twice is one file.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, JpegImagePlugin

from mapserver.photos.checking import MIME_TYPES, refuse

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
"""The file name extension of each stored format."""

# Encoder settings chosen for speed at a photo's quality: a 12-megapixel JPEG re-encodes in a fraction of a second.
_SAVE_OPTIONS = {"JPEG": {"quality": 88},  # a JPEG's own tables replace its quality (_jpeg_tables)
                "PNG": {"compress_level": 4}, "WEBP": {"quality": 88, "method": 2}}
_MODES = {"JPEG": ("L", "RGB"), "PNG": ("1", "L", "LA", "P", "RGB", "RGBA"), "WEBP": ("RGB", "RGBA")}


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to store: its bytes and thumbnail's, their format, size in pixels and SHA-256 (hex)."""

    format: str
    data: bytes
    thumb: bytes
    width: int
    height: int
    sha256: str

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def prepare_photo(image: Image.Image, kind: str, *, thumb_px: int) -> PreparedPhoto:
    """``image`` (checked and loaded, of format ``kind``) upright, stripped of its metadata and re-encoded, with
    its thumbnail."""
    icc = image.info.get("icc_profile")
    jpeg = _jpeg_tables(image) if kind == "JPEG" else {}
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # Pillow's EXIF parser raises many kinds on malformed EXIF
        raise refuse(422, "the photo's EXIF data is malformed") from None
    upright = _storable(upright, kind)
    upright.info = {}  # nothing read from the upload rides along into the new file
    data = _encode(upright, kind, icc, jpeg)
    smooth = {"P": "RGBA", "1": "L"}.get(upright.mode)  # palette and bilevel pixels cannot be averaged
    source = upright.convert(smooth) if smooth else upright
    scale = min(1.0, thumb_px / max(source.size))
    size = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
    # reducing_gap: whole-pixel box reduction first, then bicubic; a new image, the photo itself is not copied
    thumb = _storable(source.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0), kind)
    return PreparedPhoto(format=kind, data=data, thumb=_encode(thumb, kind, icc, jpeg), width=upright.width,
                         height=upright.height, sha256=hashlib.sha256(data).hexdigest())


def _storable(image: Image.Image, kind: str) -> Image.Image:
    """``image`` in a mode its format stores (CMYK becomes RGB, 16-bit grey 8-bit grey, alpha kept where it can
    be)."""
    if image.mode in _MODES[kind]:
        return image
    if image.mode.startswith("I;16") or image.mode == "I":  # 16-bit greyscale: scaled to 8 bits, not clipped
        return image.convert("I").point(lambda v: v / 256).convert("L")
    alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if alpha and "RGBA" in _MODES[kind] else "RGB")


def _jpeg_tables(image: Image.Image) -> dict[str, object]:
    """The upload's own quantisation tables and chroma subsampling: re-encoded with them, a JPEG keeps its quality
    and about its size (a fixed quality would bloat a compressed photo or blur a fine one), and encodes faster."""
    tables = getattr(image, "quantization", None)
    if not tables or not 1 <= len(tables) <= 4:
        return {}
    sampling = JpegImagePlugin.get_sampling(image)
    return {"qtables": [list(tables[k]) for k in sorted(tables)], **({"subsampling": sampling} if sampling >= 0
                                                                     else {})}


def _encode(image: Image.Image, kind: str, icc: bytes | None, extra: dict[str, object]) -> bytes:
    out = io.BytesIO()
    # Colour needs a luma and a chroma table; an upload with one (a greyscale JPEG made colour) keeps the quality.
    fits = bool(extra) and (image.mode == "L" or len(extra["qtables"]) >= 2)  # type: ignore[arg-type]
    options = dict(extra) if fits else dict(_SAVE_OPTIONS[kind])  # a quality given too would rescale the tables
    if icc:
        options["icc_profile"] = icc
    image.save(out, format=kind, **options)
    return out.getvalue()
