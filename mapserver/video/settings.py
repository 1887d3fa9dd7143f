"""The ``video:`` section of config.yaml: which hosts the pages may fetch streams and snapshots from, and which
cameras a case lists besides those that see it.

Distances are metres.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mapserver.video.addresses import origin, url_problem


class VideoSettings(BaseModel):
    """Video linkage (视频联动): the stream hosts the pages' Content-Security-Policy names, and the case's cameras."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stream_origins: list[str] = Field(
        default_factory=list,
        description="scheme://host[:port] of the video platforms and GB/T 28181 gateways whose HLS streams and "
                    "snapshots the wall and the desk may load (the pages' CSP: media-src, connect-src, img-src); "
                    "a stream on any other host is refused by the browser, and the player says so")
    nearby_m: float = Field(300.0, gt=0, le=2000,
                            description="a case also lists the online cameras this near (metres) that do not see it")
    nearby_limit: int = Field(5, ge=0, le=50, description="how many such nearby cameras at most")

    @field_validator("stream_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            problem = url_problem(value)
            if problem:
                raise ValueError(f"stream origin {value!r} {problem}")
            if origin(value) != value.rstrip("/").lower() or value.rstrip("/").count("/") > 2:
                raise ValueError(f"stream origin {value!r} must be scheme://host[:port] only, e.g. "
                                 f"{origin(value)!r}")
            out.append(origin(value))
        return out
