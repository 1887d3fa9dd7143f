"""The OpenAPI 3.0 document of the ``/api`` routes, built from their declarative descriptions.

:func:`build_document` renders :func:`mapserver.api.openapi_doc.routes.operations`
with the components every route shares: the problem document, one
problem+json response per status, and the bearer security scheme.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mapserver.api.openapi_doc.model import Operation, problem_responses
from mapserver.api.openapi_doc.routes import operations
from mapserver.api.openapi_doc.schemas import components
from mapserver.config import Settings

OPENAPI_VERSION = "3.0.3"

__all__ = ["OPENAPI_VERSION", "Operation", "build_document", "operations"]


def _paths(ops: Sequence[Operation]) -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method] = op.render()
    return paths


def build_document(settings: Settings, *, version: str, layer_keys: Sequence[str] = (),
                   with_analysis: bool = False) -> dict[str, Any]:
    """The whole document for a server with these settings, map layers and (optional) analysis routes."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "mapserver — 网格化管理 map server", "version": version,
                 "description": "Errors are application/problem+json (RFC 9457). Coordinates are WGS-84."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": _paths(operations(settings, layer_keys=layer_keys, with_analysis=with_analysis)),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "a token from `mapserver token create`"}},
            "schemas": components(),
            "responses": problem_responses(),
        },
    }
