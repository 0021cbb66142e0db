"""The API's one mapping from errors to HTTP responses, in one JSON shape.

Every product error (:data:`dialer.errors.PRODUCT_ERRORS`: the dialer's tree and the compliance
package's) answers with its own ``status_code`` and the body::

    {"error": {"code": "not_found", "message": "attempt 7 does not exist"}}

``details`` is added when there is more to say in a machine-readable form: for a request that
fails validation, the list of problems (``[{"loc": [...], "msg": ..., "type": ...}]``); for a file
that cannot be imported, where (``{"file", "row", "column"}``). A 401 carries
``WWW-Authenticate: Bearer`` and a 429 ``Retry-After`` (seconds).

FastAPI's own errors (an unknown route, a request that fails validation) use the same shape, so a
client reads one format. Routes raise the product error and map nothing by hand. Anything else is
a bug: it is logged with its traceback and answered 500 with a message that says nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dialer.errors import PRODUCT_ERRORS, ImportFileError, RegistryFileError, code_of, message_of, status_of

log = logging.getLogger(__name__)


PageErrors = Callable[[Request, int, str, str], Response | None]
"""``(request, status, code, message) -> page or None``: how a web page answers an error instead."""


def error_response(
    status: int, code: str, message: str, *, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """``{"error": {"code", "message"[, "details"]}}`` with ``status`` (``details`` when not None)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = jsonable_encoder(details)
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _answer(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    pages: PageErrors | None = getattr(request.app.state, "page_errors", None)
    page = pages(request, status, code, message) if pages is not None else None
    return (
        page if page is not None else error_response(status, code, message, details=details, headers=headers)
    )


def _details(exc: Exception) -> dict[str, Any] | None:
    if isinstance(exc, ImportFileError):
        return {"file": exc.path, "row": exc.row, "column": exc.column}
    if isinstance(exc, RegistryFileError):
        return {"file": exc.path, "line": exc.line, "column": exc.column}
    return None


def _headers(exc: Exception, status: int) -> dict[str, str] | None:
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    retry_after = getattr(exc, "retry_after_seconds", None)
    return {"Retry-After": str(retry_after)} if retry_after is not None else None


async def _product_error(_request: Request, exc: Exception) -> Response:
    status = status_of(exc)
    if status >= 500:
        log.warning("%s answered %d: %s", _request.url.path, status, message_of(exc))
    return _answer(
        _request, status, code_of(exc), message_of(exc), details=_details(exc), headers=_headers(exc, status)
    )


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = "not_found" if exc.status_code == 404 else "http_error"
    return _answer(_request, exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()
    )
    problems_list = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", "invalid"), "type": error.get("type")}
        for error in exc.errors()
    ]
    return _answer(
        _request,
        422,
        "invalid_request",
        problems or "the request is not valid",
        details=problems_list or None,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _answer(request, 500, "internal_error", "the server failed to answer this request")


def install_error_handlers(app: FastAPI, pages: PageErrors | None = None) -> None:
    """Register the handlers on ``app`` (the app factory calls this once).

    ``pages`` is asked first for every error and answers for the web pages it owns (the console:
    :func:`bridge.console.render_page_error`); everything else gets the JSON shape.

    A bug (any other exception) answers 500 in the same shape; Starlette's outermost middleware
    runs that handler and re-raises, so the traceback still reaches the server's log.
    """
    app.state.page_errors = pages
    app.add_exception_handler(Exception, _unexpected)
    for root in PRODUCT_ERRORS:
        app.add_exception_handler(root, _product_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
