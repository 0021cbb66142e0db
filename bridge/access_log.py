"""The API server's logging: uvicorn's own configuration, with secrets kept out of the access log.

The reps' calendar feed is protected by a secret in its URL (``/crm/calendar.ics?token=<secret>``,
see :mod:`crm.routes`), and uvicorn's access log writes every request line verbatim. Anyone who
can read the logs (a log shipper, a support bundle) could then subscribe to every booked meeting.
:class:`RedactQuerySecrets` replaces the value of each secret query parameter in a log record
with ``[redacted]``; :func:`install_redaction` puts it on the ``uvicorn.access`` and
``uvicorn.error`` loggers. :func:`bridge.app.create_app` calls it, so every way the API is served
(``dialer serve``, ``uvicorn bridge.app:create_app --factory`` in the compose file and the demo)
logs redacted request lines: uvicorn configures its logging before it calls the factory.
"""

from __future__ import annotations

import logging
import re

SECRET_QUERY_PARAMETERS = ("token", "sig")
"""Query parameters whose values never reach a log (``token``: the calendar feed's secret;
``sig``: a transcript link's signature)."""
REDACTED = "[redacted]"

_SECRET = re.compile(
    r"(?P<key>(?:^|[?&;])(?:" + "|".join(SECRET_QUERY_PARAMETERS) + r")=)(?P<value>[^&;\s\"']*)",
    re.IGNORECASE,
)

__all__ = ["REDACTED", "SECRET_QUERY_PARAMETERS", "RedactQuerySecrets", "install_redaction", "redact"]


def redact(text: str) -> str:
    """``text`` with the value of every :data:`SECRET_QUERY_PARAMETERS` parameter replaced.

    ``GET /crm/calendar.ics?token=s3cret&x=1`` -> ``GET /crm/calendar.ics?token=[redacted]&x=1``;
    an empty value is replaced too, so the log never tells whether a token was sent.
    """
    return _SECRET.sub(lambda m: m.group("key") + REDACTED, text)


class RedactQuerySecrets(logging.Filter):
    """A logging filter that redacts secret query parameters in a record (it never drops one).

    uvicorn's access records carry the path in ``record.args`` (``client, method, path, http
    version, status``) for its formatter to use, so string arguments are redacted in place and the
    tuple keeps its shape; the message template is redacted as well.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always True (the record is kept)."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install_redaction(logger_names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error")) -> None:
    """Put one :class:`RedactQuerySecrets` on each named logger (idempotent).

    A filter on the logger itself (not on a handler) sees every record logged there, whatever
    handlers the server's log configuration attached (``--log-config``, ``--log-level``, ...).
    """
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQuerySecrets) for f in logger.filters):
            logger.addFilter(RedactQuerySecrets())
