"""Thin HTTP blueprints: parse and check the request, call the core, serialise."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint of the API to ``app``."""
    from mapserver.api import (
        accounts,
        admin,
        analysis,
        assessment,
        audit,
        camera_video,
        cameras,
        case,
        desk,
        export,
        grids,
        health,
        incidents,
        intake,
        intake_desk,
        layers,
        login,
        lookup,
        mobile,
        ogc,
        openapi,
        patrol_desk,
        patrols,
        photos,
        reports,
        scorecards,
        screen,
        tiles,
        tokens,
        tracks,
        video_admin,
    )

    for module in (health, tokens, incidents, cameras, camera_video, lookup, grids, layers, screen, ogc, analysis,
                   export, openapi, audit, reports, patrols, accounts, login, admin, desk, intake, intake_desk,
                   patrol_desk, scorecards, assessment, case, mobile, photos, tracks, video_admin, tiles):
        app.register_blueprint(module.bp)
