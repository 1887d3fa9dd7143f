"""What one running app holds: its settings, its store, and the data this process derives from the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from mapserver.addressing import ADDRESS_MATCHER, AddressMatcher
from mapserver.config import Settings
from mapserver.derived import DerivedData
from mapserver.gridindex import GRID_INDEX, GridIndex
from mapserver.store import Store


@dataclass
class AppState:
    settings: Settings
    store: Store
    derived: DerivedData = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.derived = DerivedData(self.store)

    def grid_index(self) -> GridIndex:
        """The grid index of this app in this process, current to within a second (edits applied in place)."""
        return self.derived.get(GRID_INDEX, self.settings.lookup.max_snap_m)

    def address_matcher(self) -> AddressMatcher:
        """The standard-address matcher of this process, current to within a second."""
        return self.derived.get(ADDRESS_MATCHER)


def state() -> AppState:
    """The state of the app serving the current request."""
    return current_app.extensions["mapserver"]


def store() -> Store:
    """The store of the app serving the current request."""
    return state().store


def derived() -> DerivedData:
    """The data derived from the store of the app serving the current request."""
    return state().derived
