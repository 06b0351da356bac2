"""gunicorn's settings for the web process (Procfile: ``--config config/gunicorn.conf.py``).

The access log prints every request line, and a provider's webhook path carries
its credential (``/webhooks/vapi/<token>``), so the logger below redacts the
token from every access-log field (request line, path, raw URI, referer,
headers and environ variables alike) and from gunicorn's error log ("Error
handling request /webhooks/…"). Flags on the command line still override
anything set here.
"""

from __future__ import annotations

from gunicorn.glogging import Logger, SafeAtoms

# gunicorn puts its working directory (the repository, as the Procfile runs it) on sys.path first.
from config.logfilters import RedactWebhookTokens, redact_webhook_tokens


class RedactedAtoms(SafeAtoms):
    """gunicorn's access-log fields, each string without webhook tokens."""

    def __init__(self, atoms: dict) -> None:
        super().__init__({key: _redacted(value) for key, value in atoms.items()})


def _redacted(value: object) -> object:
    return redact_webhook_tokens(value) if isinstance(value, str) else value


class RedactingLogger(Logger):
    atoms_wrapper_class = RedactedAtoms

    def setup(self, cfg) -> None:  # noqa: ANN001 (gunicorn's Config)
        super().setup(cfg)  # runs again on every reload (SIGHUP): add the filter once
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactWebhookTokens) for f in log.filters):
                log.addFilter(RedactWebhookTokens())


logger_class = RedactingLogger
accesslog = "-"
