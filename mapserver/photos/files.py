"""Photo files on disk, named by the SHA-256 of their bytes: ``<folder>/<first two hex digits>/<sha256>.<ext>`` and
the thumbnail beside it as ``<sha256>.thumb.<ext>``.

A file is written whole or not at all: into a temporary file in the same folder, flushed to the disk, then renamed
over its name (atomic on POSIX), so a reader never sees half a photo. A disk that fills up (or a quota, or a file
size limit) raises :class:`DiskFull` after the temporary file is removed. A name that exists already holds the same
bytes (it is their hash) and is not written again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from pathlib import Path

FULL_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""The errors that mean "no room for this file" rather than a fault."""
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DiskFull(Exception):
    """The photos' disk has no room for a file (ENOSPC, EDQUOT or EFBIG); nothing of it was left behind."""


class PhotoFiles:
    """The folder of photo files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, sha256: str, extension: str, *, thumb: bool = False) -> Path:
        """Where the photo (or its thumbnail) with this hash and extension lives; ValueError for a malformed hash."""
        if not SHA256.match(sha256) or not extension.isalnum():
            raise ValueError(f"not a photo's name: {sha256!r}.{extension!r}")
        name = f"{sha256}.thumb.{extension}" if thumb else f"{sha256}.{extension}"
        return self.folder / sha256[:2] / name

    def write(self, target: Path, data: bytes) -> bool:
        """Write ``data`` to ``target`` atomically; False when it is there already (same name, same bytes).
        :class:`DiskFull` when there is no room, with nothing left behind."""
        if target.exists():
            return False
        made_folder = not target.parent.exists()
        temp: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
            temp = None
            _sync_folder(target.parent)
        except OSError as exc:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
            if made_folder:
                with contextlib.suppress(OSError):
                    target.parent.rmdir()  # only if empty: another photo may have arrived meanwhile
            if exc.errno in FULL_ERRORS:
                raise DiskFull(f"no room for {target.name} in {target.parent}: {os.strerror(exc.errno)}") from exc
            raise
        return True

    def remove(self, target: Path) -> None:
        """Remove a file this process wrote when what it belonged to failed (missing already: nothing to do)."""
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        with contextlib.suppress(OSError):
            target.parent.rmdir()  # only if empty

    def read(self, sha256: str, extension: str, *, thumb: bool = False) -> bytes | None:
        """The bytes of a stored photo or thumbnail; None when the file is missing."""
        try:
            return self.path(sha256, extension, thumb=thumb).read_bytes()
        except FileNotFoundError:
            return None


def _sync_folder(folder: Path) -> None:
    """Make the rename durable: the folder's entry is on disk too."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
