"""Domain exceptions: an expected refusal carries a text key (bot/texts.py) and a stable code.

Callers translate them at their edge: the chat answers `texts.t(error.key, **error.fields)`,
the REST API answers `error.status` with `{"error": error.code}`, the console shows the text.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected refusal of a business rule (not a bug): code, text key and HTTP-like status."""

    code = "refused"
    status = 409

    def __init__(self, key: str, /, **fields: Any) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields


class NotFound(DomainError):
    """The thing does not exist, or is not visible to this actor (other units look the same)."""

    code = "not_found"
    status = 404


class Forbidden(DomainError):
    """This actor may not make this move (a resident accepting, a unit outside their tree)."""

    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """The move does not apply to the current state (accepting a resolved request)."""

    code = "conflict"
    status = 409


class Invalid(DomainError):
    """The arguments are not acceptable (an empty resolution, a rating outside 1–5)."""

    code = "invalid"
    status = 422
