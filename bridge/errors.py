"""The API's one mapping from errors to HTTP responses, in one JSON shape.

Every product error (:data:`dialer.errors.PRODUCT_ERRORS`: the dialer's tree and the compliance
package's) answers with its own ``status_code`` and the body::

    {"error": {"code": "not_found", "message": "attempt 7 does not exist"}}

FastAPI's own errors (an unknown route, a request that fails validation) use the same shape, so a
client reads one format. Routes raise the product error and map nothing by hand. Anything else is
a bug: it is logged with its traceback and answered 500 with a message that says nothing more.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dialer.errors import PRODUCT_ERRORS, code_of, message_of, status_of

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """``{"error": {"code", "message"}}`` with ``status``."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _product_error(_request: Request, exc: Exception) -> JSONResponse:
    status = status_of(exc)
    if status >= 500:
        log.warning("%s answered %d: %s", _request.url.path, status, message_of(exc))
    return error_response(status, code_of(exc), message_of(exc))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = "not_found" if exc.status_code == 404 else "http_error"
    return error_response(exc.status_code, code, str(exc.detail))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()
    )
    return error_response(422, "invalid_request", problems or "the request is not valid")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app`` (the app factory calls this once)."""
    for root in PRODUCT_ERRORS:
        app.add_exception_handler(root, _product_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
