"""Photos of cases (现场照片): checking an upload by its content, making it fit to keep, storing its files.

:mod:`~mapserver.photos.checking` decides whether bytes are a whole JPEG, PNG or WebP and nothing else;
:mod:`~mapserver.photos.processing` turns it upright and re-encodes it without metadata, with a thumbnail;
:mod:`~mapserver.photos.files` writes files atomically under names from their SHA-256;
:mod:`~mapserver.photos.service` attaches one to a case. The web side is :mod:`mapserver.api.photos`.
"""
