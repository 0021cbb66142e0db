"""Running service work from an async route: in a worker thread, in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session

from bridge.api.access import runtime_of

_T = TypeVar("_T")


async def in_transaction(request: Request, work: Callable[[Session, datetime], _T]) -> _T:
    """``work(session, now)`` in one committed transaction, off the event loop; its result."""
    return await asyncio.to_thread(runtime_of(request).run_in_transaction, work)
