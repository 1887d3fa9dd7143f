"""One exception type for every client-visible failure: a status, a title, a detail for the user, the parameter.

The core raises :class:`Problem` and knows nothing of the web; the web side
(:mod:`mapserver.api.problems`) renders it, and every other HTTP error, as an
RFC 9457 ``application/problem+json`` response in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

PROBLEM_MIME = "application/problem+json"
STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "param", "errors"})


class Problem(Exception):
    """A failure the client caused or must know about, with its HTTP status.

    ``detail`` is shown to the user; ``param`` names the query parameter, body
    field or file column that was wrong; ``errors`` lists row-level findings
    (for imports: row, field, reason) when there is more than one; ``members``
    are extension members (RFC 9457 §3.2) a client reads instead of the English
    ``detail``, e.g. ``reason`` and the facts a page needs to explain the
    refusal in its own language.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        param: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        members: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = int(status)
        self.detail = detail
        self.title = title or HTTPStatus(self.status).phrase
        self.param = param
        self.errors = [dict(e) for e in errors] if errors else []
        self.headers = dict(headers or {})
        self.members = dict(members or {})
        clash = set(self.members) & STANDARD_MEMBERS
        if clash:  # an extension member never hides a standard one
            raise ValueError(f"problem members {sorted(clash)} are reserved")

    def to_dict(self) -> dict[str, Any]:
        """The problem document (RFC 9457 members plus ``param``/``errors``)."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.param is not None:
            body["param"] = self.param
        if self.errors:
            body["errors"] = self.errors
        body.update(self.members)
        return body

    def __str__(self) -> str:
        where = f" [{self.param}]" if self.param else ""
        lines = [f"{self.status} {self.title}{where}: {self.detail}"]
        lines += ["  " + ", ".join(f"{k}={v}" for k, v in e.items()) for e in self.errors]
        return "\n".join(lines)
