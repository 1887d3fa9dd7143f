"""Thin HTTP blueprints: parse and check the request, call the core, serialise."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint of the API to ``app``."""
    from mapserver.api import health, layers, tokens

    for module in (health, tokens, layers):
        app.register_blueprint(module.bp)
