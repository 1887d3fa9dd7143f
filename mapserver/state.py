"""What one running app holds: its settings and its store."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from mapserver.config import Settings
from mapserver.store import Store


@dataclass
class AppState:
    settings: Settings
    store: Store


def state() -> AppState:
    """The state of the app serving the current request."""
    return current_app.extensions["mapserver"]


def store() -> Store:
    """The store of the app serving the current request."""
    return state().store
