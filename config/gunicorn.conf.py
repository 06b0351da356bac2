"""gunicorn's settings for the web process (Procfile: ``--config config/gunicorn.conf.py``).

The access log prints every request line, and a provider's webhook path carries
its credential (``/webhooks/<kind>/<token>``), so the logger below redacts the
token from every access-log field (request line, path, raw URI, referer,
headers and environ variables alike) and from gunicorn's error log ("Error
handling request /webhooks/…"). Flags on the command line still override
anything set here.

Before anything is served, the master refuses to start without a secret key (`on_starting`),
and each worker settles the cyclic collector once (`post_worker_init`, config/collector.py),
instead of pausing it around each request.
"""

from __future__ import annotations

import os

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
# Seconds an idle keep-alive connection stays open. Longer than clients keep theirs (Node's fetch,
# under Vapi's TypeScript SDK: 4 s), so a client never sends on a connection we have just closed
# (gunicorn's default of 2 s did that: "other side closed"). Behind a proxy, keep the proxy's own
# idle timeout towards gunicorn below this. Applies to the Procfile's threaded workers.
keepalive = 75


def on_starting(server) -> None:  # noqa: ANN001 (gunicorn's Arbiter; unused)
    """Refuse to serve without a secret key, rather than answer 500 to the first sign-in.

    Settings leave the key empty when neither SECRET_KEY nor SECRET_KEY_FILE is set and
    `manage.py prepare_local` made no development key (config/settings.py). gunicorn prints a
    RuntimeError raised here as "Error: …" and exits with status 1, before binding its port.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    settings.DEBUG  # noqa: B018 - any other bad setting is refused here with its own message
    try:
        settings.SECRET_KEY  # noqa: B018
    except ImproperlyConfigured:
        raise RuntimeError(
            "no secret key: set SECRET_KEY or SECRET_KEY_FILE (or, on a development machine,"
            " run `manage.py prepare_local` once to make var/secret_key)"
        ) from None


def post_worker_init(worker) -> None:  # noqa: ANN001 (gunicorn's Worker; unused)
    """Load every view, then settle the cyclic collector (config/collector.py), once, after loading
    the application and before serving, while the worker has no other thread.

    A 10,000-customer campaign document allocates enough objects to set off the collector's
    full passes, and each walked every object of the process (Django, the views, phonenumbers'
    metadata...): a third of the document's time, measured (bench/bench_reads.py).
    """
    from django.urls import get_resolver

    from config import collector

    get_resolver().url_patterns  # noqa: B018 - import every view now, not in the first request
    collector.settle()
