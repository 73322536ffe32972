"""Expected errors of the HTTP API, rendered as JSON `{"error": code, "message": …}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP error with a status, a machine-readable code and a message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}  # e.g. a 429's Retry-After


def _body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def install_error_handlers(app: FastAPI) -> None:
    """Render ApiError, validation errors and HTTP errors as JSON (an HTTP error's headers are
    kept: the console's LoginRequired is a 303 with its Location); a value the database cannot
    store (a number out of range, SQLite's OverflowError) is a 400, not a 500."""

    async def api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        headers.update(exc.headers)
        return JSONResponse(_body(exc.code, exc.message, exc.details), exc.status, headers)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return JSONResponse(_body("invalid_request", "the request is not valid", details), 422)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            _body(f"http_{exc.status_code}", str(exc.detail)), exc.status_code, exc.headers
        )

    async def unstorable(_request: Request, exc: Exception) -> JSONResponse:
        # A value the database refuses (out of range, NUL) that no model bounded: the client's.
        log.warning("refused a value the database cannot store: %s", type(exc).__name__)
        return JSONResponse(
            _body("invalid_value", "the request holds a value that cannot be stored"), 400
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(DataError, unstorable)
    app.add_exception_handler(OverflowError, unstorable)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
