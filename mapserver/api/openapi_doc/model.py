"""The declarative pieces a route description is made of, and how each renders into OpenAPI 3.0.

A route is described once, as data (:class:`Operation`): its parameters with
types, bounds and enums, its body per media type, its answers, its Flask
endpoint and the problems it may answer with. Rendering adds what every route
shares (the bearer scheme, the problem document, 401, and 403 where some role
is refused), so no description repeats it and none can forget it. The roles a
route names are those of the one role table, :data:`mapserver.roles.ROUTES`,
looked up by the endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from mapserver.errors import PROBLEM_MIME
from mapserver.request_limits import MAX_URL_BYTES
from mapserver.roles import PUBLIC, ROLES, allowed_roles

Schema = dict[str, Any]

# What each problem status means on this server; the problem document itself is components.schemas.Problem.
PROBLEM_MEANINGS: dict[int, str] = {
    400: "a parameter or the body is malformed or out of range (`param` names it)",
    401: "no token or session, or one that is unknown, revoked or expired",
    403: "the caller's role may not call this route (or take this action), or the grid given lies outside the "
         "caller's jurisdiction",
    404: "no such record, layer or path",
    409: "the change conflicts with stored data (illegal transition, raced version, taken name)",
    413: "the body is larger than server.max_request_mb (or the route's own cap)",
    414: f"the URL (path and query) is longer than the server takes ({MAX_URL_BYTES:,} bytes)",
    415: "the body's Content-Type is not one this route reads (or an upload's content is not a format it takes)",
    422: "the body is well formed but breaks a rule (unknown value, missing field)",
    503: "the database is busy or unreachable; try again",
    507: "the server's disk has no room for the upload; nothing was kept, try again later",
}


@dataclass(frozen=True)
class Param:
    """A query, path or header parameter."""

    name: str
    schema: Schema
    where: str = "query"
    required: bool = False
    description: str = ""

    def render(self) -> Schema:
        out: Schema = {"name": self.name, "in": self.where, "required": self.required or self.where == "path",
                       "schema": self.schema}
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Answer:
    """A successful answer: status, description and its body per media type (empty for none)."""

    status: int
    description: str
    content: dict[str, Schema] = field(default_factory=dict)
    headers: dict[str, Schema] = field(default_factory=dict)

    def render(self) -> Schema:
        out: Schema = {"description": self.description}
        if self.content:
            out["content"] = {mime: {"schema": schema} for mime, schema in self.content.items()}
        if self.headers:
            out["headers"] = {name: {"schema": schema} for name, schema in self.headers.items()}
        return out


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the server answers it."""

    method: str
    path: str
    summary: str
    tag: str
    answers: tuple[Answer, ...]
    endpoint: str
    """The Flask endpoint that serves it: who may call it is the role table's entry for it."""
    params: tuple[Param, ...] = ()
    body: dict[str, Schema] | None = None  # media type → schema
    problems: tuple[int, ...] = ()

    def _allowed(self) -> frozenset[str]:
        allowed = allowed_roles(self.endpoint, self.method.upper())
        if allowed is None:
            raise ValueError(f"{self.method.upper()} {self.path}: {self.endpoint!r} is not in the role table")
        return allowed

    @property
    def public(self) -> bool:
        """Whether anyone may call it without a token or logging in (the role table marks it PUBLIC)."""
        return self._allowed() == PUBLIC

    def roles(self) -> list[str]:
        """The roles that may call this operation, in the order of :data:`mapserver.roles.ROLES` (none when it is
        public)."""
        allowed = self._allowed()
        return [role for role in ROLES if role in allowed]

    def problem_statuses(self) -> list[int]:
        """Every problem status this route may answer with: its own plus those every route shares."""
        # Every route refuses unknown query parameters (400) and may find the database busy; all but the public
        # ones need a token (401), and those some role may not call refuse it (403).
        shared = {400, 503}
        if not self.public:
            shared.add(401)
            if len(self.roles()) < len(ROLES):
                shared.add(403)
        if any(p.where == "path" for p in self.params):
            shared.add(404)
        if self.body is not None:
            shared.add(413)
        return sorted(shared | set(self.problems))

    def access(self) -> str:
        """Who may call it, as its description says: "Roles: **dispatcher**, **field**, **admin**."."""
        if self.public:
            return "Public: anyone may call it, without a token."
        return "Roles: " + ", ".join(f"**{role}**" for role in self.roles()) + "."

    def render(self) -> Schema:
        responses: Schema = {str(a.status): a.render() for a in self.answers}
        for status in self.problem_statuses():
            responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
        out: Schema = {
            "operationId": f"{self.method}_{self.path}".replace("/", "_").replace("{", "").replace("}", ""),
            "summary": self.summary,
            "tags": [self.tag],
            "description": self.access(),
            "parameters": [p.render() for p in self.params],
            "responses": responses,
        }
        if self.public:
            out["security"] = []
        if self.body is not None:
            out["requestBody"] = {"required": True,
                                  "content": {mime: {"schema": schema} for mime, schema in self.body.items()}}
        return out


def problem_responses() -> dict[str, Schema]:
    """components.responses: one problem+json response per status the server uses."""
    return {f"Problem{status}": {
        "description": f"{HTTPStatus(status).phrase}: {meaning}",
        "content": {PROBLEM_MIME: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    } for status, meaning in PROBLEM_MEANINGS.items()}
