"""Webhook tokens never reach a log line.

A provider posts to ``/webhooks/<kind>/<token>`` (``/webhooks/vapi/<token>`` for
accounts set up before each kind had its own path) and the token is its
credential (dialer/urls.py), so every path we log (Django's "Not Found: …" and
"Internal Server Error: …", runserver's request lines, gunicorn's access and
error logs through config/gunicorn.conf.py) shows ``/webhooks/<kind>/[redacted]``.
The kind segment is kept (it says which provider called); everything after it up
to the query string is the token, and so is a lone segment after ``/webhooks/``
(a provider set up with a URL missing its kind still sends its token).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_WEBHOOK_PATH = re.compile(
    r"(?P<head>/webhooks/+(?:[a-z]{1,16}/+)?)(?P<token>[^\s?#\"'/][^\s?#\"']*)", re.IGNORECASE
)


def redact_webhook_tokens(text: str) -> str:
    """`text` with the token of every webhook path in it replaced by ``[redacted]``."""
    if "webhooks" not in text.lower():  # the common case: nothing to scan
        return text
    return _WEBHOOK_PATH.sub(lambda m: m.group("head") + REDACTED, text)


class RedactWebhookTokens(logging.Filter):
    """Rewrites a record's message (and its traceback) without the webhook tokens in it.

    Installed on a handler it covers every logger whose records reach that handler;
    the record is rewritten in place, so handlers after this one see it redacted too.
    Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_webhook_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_webhook_tokens(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_webhook_tokens(record.stack_info)
        return True
