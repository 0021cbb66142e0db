"""Waiting in tests: on the condition the test needs, with a deadline, never for a fixed time.

A test that sleeps "long enough" for work to finish is slow when the machine is idle and flaky
when it is loaded. Wait for what the test is about instead: an :class:`asyncio.Event`, a message
appearing, a row in the database, polled with :func:`wait_until` (threads, processes) or
:func:`wait_until_async` (the event loop). The timeout is only a bound on a failure, so it is
generous; the wait ends as soon as the condition holds.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

_T = TypeVar("_T")

DEFAULT_TIMEOUT = 30.0
"""Seconds before a wait fails: far beyond what any condition needs on a loaded 2-core machine."""


def wait_until(
    predicate: Callable[[], _T], *, timeout: float = DEFAULT_TIMEOUT, what: str, poll: float = 0.05
) -> _T:
    """Call ``predicate`` every ``poll`` seconds until it returns something truthy, and return that.

    Raises:
        AssertionError: ``timeout`` seconds passed first (the message names ``what``).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


async def wait_until_async(
    predicate: Callable[[], _T | Awaitable[_T]],
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the deadline is the point of this helper
    what: str,
    poll: float = 0.005,
) -> _T:
    """:func:`wait_until` on the event loop: ``predicate`` may be a coroutine function.

    Other tasks run between polls, so a predicate over state they change sees it change.

    Raises:
        AssertionError: ``timeout`` seconds passed first (the message names ``what``).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(poll)
