"""The ``photos:`` section of config.yaml: where photos of cases are kept and what an upload may be.

Sizes are bytes (configured in MB, 1 MB = 1,048,576 bytes); pixel counts are width × height of the decoded image;
the thumbnail size is the longest side in pixels.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

MB = 1024 * 1024
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class PhotoSettings(BaseModel):
    """Photos attached to cases (现场照片): their folder, size limits and thumbnail size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: str = Field("data/photos", min_length=1,
                     description="folder of the photo files; a relative path is taken from the config file's folder")
    max_mb: float = Field(10.0, gt=0, le=100, description="largest photo upload accepted (MB); larger → 413")
    max_pixels: int = Field(50_000_000, ge=10_000, le=500_000_000,
                            description="most pixels a photo may decode to; more is refused as an image bomb")
    max_metadata_kb: int = Field(1024, ge=16, le=16384,
                                 description="most metadata (EXIF, XMP, ICC, comments) a photo may carry (KiB)")
    thumb_px: int = Field(320, ge=32, le=2048, description="thumbnail's longest side in pixels")
    per_entry: int = Field(9, ge=1, le=100, description="most photos attached to one timeline entry")

    @property
    def max_bytes(self) -> int:
        """The largest upload accepted, in bytes."""
        return int(self.max_mb * MB)

    def folder(self, source: str) -> Path:
        """The photos' folder: ``dir``, a relative one taken from the folder of the config file ``source`` (from
        the project's folder when the settings were not read from a file, as for the basemap)."""
        path = Path(self.dir)
        if path.is_absolute():
            return path
        origin = Path(source)
        return (origin.parent if origin.is_file() else PROJECT_ROOT) / path
