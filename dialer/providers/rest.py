"""What the REST providers (Twilio, Retell, Bland, ElevenLabs) share: one transport and its rules.

A provider module subclasses `RestProvider` and says only what is its own: how it authenticates
(`auth_headers`), how a body is written (`encode`: JSON unless it says otherwise), the request
that creates a call (`create`), where the provider's call id is in the answer (`call_id_of`),
and how it reads a refusal (`refusal`). Everything else is here, once:

- the target is checked again before each request (campaigns.egress, also through a proxy): a
  private, loopback or link-local one ends the call with URL_REFUSED, nothing sent;
- 5xx, 408 and 429 are retryable (the dialer backs off, honouring Retry-After up to 5 minutes);
  refused connections too; a read timeout may have created the call, so it is neither retried
  nor failed (`outcome_unknown`): the callbacks or the reaper settle it;
- every exchange is recorded with the account's secrets redacted, and so is every poll;
- webhook bodies are read within WEBHOOK_MAX_BYTES (413 beyond).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import orjson
from django.conf import settings
from django.http import HttpRequest

from campaigns.models import Call
from campaigns.services.inputs import CallEvent
from dialer.providers import transport
from dialer.providers.base import (
    FAILED,
    URL_REFUSED,
    Exchange,
    HttpProvider,
    ProviderError,
    WebhookRejected,
)

__all__ = ["FAILED", "NOT_FOUND", "REJECTED", "URL_REFUSED", "RestProvider"]

REJECTED = "call.start.error-provider-rejected-request"
NOT_FOUND = "call.dialdeck.not-found-at-provider"


class RestProvider(HttpProvider):
    """An HTTP provider with one transport; subclasses say what is their own (module docstring)."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]

    # -- what a provider says for itself --------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account.api_key}"}

    def encode(self, body: dict[str, Any]) -> tuple[bytes, str]:
        return orjson.dumps(body), "application/json"

    @abstractmethod
    def create(self, call: Call) -> tuple[str, dict[str, Any]]:
        """(path, body) of the request that dials `call`; raises ProviderError if it cannot be built."""

    def call_id_of(self, answer: dict[str, Any]) -> str:
        return text(answer.get("call_id"), 100)

    def refusal(self, code: int, data: dict[str, Any]) -> tuple[bool, str]:
        """(retryable, what the provider said) for a non-2xx answer."""
        said = data.get("message") or data.get("error") or data.get("detail") or ""
        return code >= 500 or code in (408, 429), str(said)[:160]

    # -- shared ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return (self.account.base_url or self.default_base_url).rstrip("/")

    def webhook_url(self, **query: str) -> str:
        """Our address for this account's callbacks, with `query` (signed by providers that sign
        the URL, so our call id in it cannot be forged)."""
        url = self.webhook_address
        return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")

    def prepare_call(self, call: Call) -> Exchange:
        try:
            path, body = self.create(call)
        except ProviderError as exc:
            exchange = Exchange(call=call, method="POST", path="(not sent)")
            exchange.summary, exchange.error = str(exc)[:200], exc
            return exchange
        return self.exchange(call, "POST", path, body)

    def accepted(self, exchange: Exchange) -> str:
        if exchange.error:
            raise exchange.error
        if not (found := self.call_id_of(exchange.answer)):
            raise ProviderError("answered without a call id", retryable=False, ended_reason=REJECTED)
        return found

    def request_of(self, exchange: Exchange) -> transport.Request | None:
        url = self.base_url + exchange.path
        if not self.target_allowed(exchange, url):
            return None
        headers, data = self.auth_headers(), None
        if exchange.body is not None:
            data, headers["Content-Type"] = self.encode(exchange.body)
        return transport.Request(exchange.method, url, headers, data)

    def refused(self, exchange: Exchange, retry_after: int | None) -> ProviderError:
        code = exchange.status or 0
        retryable, said = self.refusal(code, exchange.answer)
        text = f"{exchange.method} {exchange.path}: the provider answered {code} {self.redact(said)}"
        return ProviderError(
            text.strip(),
            retryable=retryable,
            retry_after=retry_after,
            ended_reason=FAILED if retryable else REJECTED,
            http_status=code,
        )

    def get(self, path: str) -> Exchange:
        """GET `path`, both halves recorded on the call's log; raises the exchange's error."""
        return self.poll(self.exchange(None, "GET", path))

    def poll(self, exchange: Exchange) -> Exchange:
        """Send a request that is not a placement (a status poll, a follow-up), recorded; raises."""
        self.record("poll", exchange.request_summary, body=exchange.logged_body)
        self.send(exchange, poll=True)
        self.record("poll", exchange.summary, http_status=exchange.status, body=exchange.answer_text)
        if exchange.error:
            raise exchange.error
        return exchange

    def read_body(self, request: HttpRequest) -> bytes:
        """The webhook body, at most WEBHOOK_MAX_BYTES; raises WebhookRejected (413) beyond."""
        limit, declared = settings.WEBHOOK_MAX_BYTES, str(request.META.get("CONTENT_LENGTH", ""))
        if (declared.isdigit() and int(declared) > limit) or len(body := request.read(limit + 1)) > limit:
            raise WebhookRejected(f"body over {limit} bytes", status=413)
        return body

    def json_body(self, body: bytes) -> dict[str, Any]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise WebhookRejected("not JSON", status=400) from None
        if not isinstance(payload, dict):
            raise WebhookRejected("not a JSON object", status=400)
        return payload

    def not_found(self, call: Call, exc: ProviderError) -> list[CallEvent]:
        """A poll's 404: the provider has no such call (ended NOT_FOUND); other errors raise."""
        if exc.http_status != 404:
            raise exc
        ids = {"call_id": str(call.pk), "provider_call_id": call.provider_call_id}
        return [CallEvent(kind="status-update", status="ended", ended_reason=NOT_FOUND, **ids)]


def text(value: Any, limit: int = 10**7) -> str:
    """`value` if it is a string of at most `limit` characters, else ""."""
    return value if isinstance(value, str) and len(value) <= limit else ""
