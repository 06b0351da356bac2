"""A Vapi-compatible provider: POST /call to dial, webhooks to hear back, GET /call/{id} to reconcile,
GET /call (List Calls) to find a call whose request was cut before we learned its id.

Each call carries its way home (spec §10-§11): our per-account webhook URL, the account's secret
(sent back in X-Vapi-Secret) and our ids in the overrides' metadata. Exchanges are recorded with
the secret and API key redacted (see `base.scrub`). 5xx, 408, 429, timeouts and broken connections
are retryable; other 4xx end the call with Vapi's endedReason if the body has one, else REJECTED.
Before each request the target is checked again (campaigns.egress, also through a proxy): a
private, loopback or link-local one ends the call with URL_REFUSED, nothing sent.

Overrides (Vapi 2026, spec §4). The campaign's own `assistantOverrides` (assistant campaigns) or
`squadOverrides` (squad campaigns) are merged under each customer's (`assistantOverrides`, or
`squadOverrides` for squads: a squad customer without them keeps v1's `assistantOverrides`) by
one recursive deep merge, `merge_overrides`: objects merge key by key at every depth, the
customer wins wherever both give a value that is not an object on both sides, arrays are
replaced whole (never concatenated), and null is kept as a value (it does not delete the key).
Then our server, serverMessages and metadata go on top the same way. Workflow campaigns send
the customer's variableValues alone (WorkflowOverrides holds nothing else).

Our status callbacks need our `server`: a customer (or campaign) whose overrides carry a
`server` of its own would lose it to ours, and its webhook would receive nothing, silently. The
API refuses such overrides; rows stored before are not sent: the call ends at once with
OVERRIDES_CONFLICT, its log saying why (nothing reaches Vapi). Their `serverMessages` is kept,
the two message types we need appended when missing (`_messages`): Vapi sends what it lists to
our server, which ignores the types it does not use.
"""

from __future__ import annotations

import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from django.conf import settings
from django.http import HttpRequest

from campaigns.models import Call, CallStatus, Campaign, Customer, TranscriptLine, TranscriptRole
from campaigns.services.inbound import InboundResult
from campaigns.services.inputs import TRANSCRIPT, CallEvent
from dialer.providers import transport
from dialer.providers.base import (
    FAILED,
    URL_REFUSED,
    Exchange,
    HttpProvider,
    InboundCall,
    ProviderError,
    Received,
    WebhookRejected,
)

__all__ = ["FAILED", "NOT_FOUND", "OVERRIDES_CONFLICT", "REJECTED", "URL_REFUSED", "VapiProvider"]

REJECTED = "call.start.error-provider-rejected-request"
NOT_FOUND = "call.dialdeck.not-found-at-provider"
OVERRIDES_CONFLICT = "call.dialdeck.overrides-server-conflict"
# find_call: calls per GET /call (Vapi's default; Call objects carry transcripts, so pages stay
# small) and requests per search.
FIND_PAGE = 100
FIND_REQUESTS = 10
MS = timedelta(milliseconds=1)
RETRYABLE_REASONS = {"call.start.error-subscription-concurrency-limit-reached"}
MESSAGES = ("status-update", "end-of-call-report")
# Read on every webhook: Django's `Choices.values` builds its list again on each access (4 µs).
STATUSES = frozenset(CallStatus.values)
ROLES = frozenset(TranscriptRole.values)
# The overrides' key our status callbacks need: a customer's or campaign's own would be replaced.
OUR_KEYS = ("server",)
OVERRIDES = dict(assistantId="assistantOverrides", squadId="squadOverrides", workflowId="workflowOverrides")
# CreateCustomerDTO key -> Customer field, sent when set (numberE164CheckEnabled only when false).
# The number is the canonical one (+4930..., never +49030...) unless the E.164 check was off.
CUSTOMER_DTO = {"number": "number", "name": "name", "email": "email", "sipUri": "sip_uri"}
CUSTOMER_DTO |= {"externalId": "external_id", "extension": "extension"}
WEB = ("https://", "http://")


class VapiProvider(HttpProvider):
    check_path = "/assistant?limit=1"  # one assistant of the account: read only

    def _body_of(self, request: HttpRequest) -> bytes:
        """The authenticated body, at most WEBHOOK_MAX_BYTES, read once per request (parse_inbound
        and parse_webhook both read it). Raises WebhookRejected: 401 missing or wrong secret, 413."""
        if (cached := getattr(request, "_dialdeck_body", None)) is not None:
            return cached
        meta, secret = request.META, self.account.webhook_secret.encode()  # not .headers: a copy per call
        auth = meta.get("HTTP_AUTHORIZATION", "")
        given = (meta.get("HTTP_X_VAPI_SECRET", ""), auth[7:] if auth[:7].lower() == "bearer " else "")
        if not secret or not any(g and hmac.compare_digest(g.encode(), secret) for g in given):
            raise WebhookRejected("missing or wrong webhook secret", status=401)
        limit, declared = settings.WEBHOOK_MAX_BYTES, str(request.META.get("CONTENT_LENGTH", ""))
        if (declared.isdigit() and int(declared) > limit) or len(body := request.read(limit + 1)) > limit:
            raise WebhookRejected(f"body over {limit} bytes", status=413)
        request._dialdeck_body = body  # type: ignore[attr-defined]
        return body

    def parse_inbound(self, request: HttpRequest) -> InboundCall | None:
        """Vapi's `assistant-request` (an inbound call to a number whose server is ours): the
        caller, the number called (and its Vapi id) and Vapi's call id; None for other messages.
        Raises WebhookRejected like parse_webhook."""
        body = self._body_of(request)
        if b'"assistant-request"' not in body:  # the cheap test first: most messages are not
            return None
        try:
            message = orjson.loads(body)["message"]
            if message.get("type") != "assistant-request":
                return None
            call, number = _obj(message.get("call")), _obj(message.get("phoneNumber"))
        except (ValueError, LookupError, TypeError, AttributeError, RecursionError):
            raise WebhookRejected('not a JSON {"message": {...}}', status=400) from None
        customer = _obj(call.get("customer")) or _obj(message.get("customer"))
        return InboundCall(
            caller=_text(customer.get("number"), 40),
            called=_text(number.get("number"), 40),
            called_id=_text(number.get("id") or call.get("phoneNumberId"), 100),
            provider_call_id=_text(call.get("id"), 100),
            raw=self.redact_text(body.decode(errors="replace")),
        )

    def inbound_answer(self, result: InboundResult) -> tuple[bytes, str]:
        """The assistant-request's answer: `{"error": message}` (Vapi says it, then hangs up) to
        reject; to route, the campaign's agent (`assistantId`, `squadId` or `workflowId`) with
        the caller's context as variableValues and, but for workflows, our server and ids in
        metadata, so the call's status updates and report come back to this account."""
        answer = result.answer
        if not answer.routed or result.target is None or result.call is None:
            return orjson.dumps({"error": answer.message or "This call was declined."}), "application/json"
        target_key, target = result.target
        campaign = result.call.campaign
        campaign_level, _ = _overrides_of(campaign, result.call.customer, target_key)
        overrides: dict[str, Any] = merge_overrides(
            merge_overrides(_outcome_overrides(campaign), campaign_level), {"variableValues": result.context}
        )
        if target_key == "workflowId":
            overrides = {"variableValues": overrides["variableValues"]}
        else:
            server = {"url": self.webhook_address, "timeoutSeconds": 20}
            server["headers"] = {"X-Vapi-Secret": self.account.webhook_secret}
            metadata = {k: result.context[k] for k in ("callId", "campaignId", "customerId")}
            overrides |= {"server": server, "serverMessages": _messages(overrides.get("serverMessages"))}
            overrides["metadata"] = metadata | {"direction": "inbound"}
        return orjson.dumps({target_key: target, OVERRIDES[target_key]: overrides}), "application/json"

    def parse_webhook(self, request: HttpRequest) -> list[CallEvent]:
        """Authenticate first, then bound and parse one server message; [] for what we do not act on.

        Raises WebhookRejected: 401 missing or wrong secret, 413 over WEBHOOK_MAX_BYTES, 400 not JSON.
        """
        return [event for item in self.accept_webhook(request) for event in self.events_of(item)]

    def accept_webhook(self, request: HttpRequest) -> list[CallEvent | Received]:
        """A status update or an end-of-call report kept as it arrived (its secrets redacted): its
        call, ids, times, cost and artifacts are read when it is recorded (stored_events), not in
        the callback. A live transcript's final line is read now (only its words are kept); []
        for what we do not act on. Raises WebhookRejected as parse_webhook does."""
        body = self._body_of(request)
        try:
            payload, message, call, kind = _read(body)
        except (ValueError, LookupError, TypeError, AttributeError, RecursionError):
            raise WebhookRejected('not a JSON {"message": {...}}', status=400) from None
        if isinstance(kind, str) and kind.startswith(TRANSCRIPT):  # "transcript[transcriptType=...]" too
            return _line(message, call)
        if not _acted_on(message, kind):
            return []
        return [Received(self.redact_text(body.decode(errors="replace"), payload))]

    def stored_events(self, text: str) -> list[CallEvent]:
        """A status update or end-of-call report accept_webhook kept, as its event (raw: the text).
        Raises ValueError for any other message, as for text that is none."""
        _, message, call, kind = _read(text)
        if not _acted_on(message, kind):
            raise ValueError("not a status update or end-of-call report to record")
        return [_event(kind, call | message, raw=text, at=_when(message.get("timestamp")), **_ids(call))]

    def fetch_status(self, call: Call) -> list[CallEvent]:
        """GET /call/{id} as events: its status, and its report once ended. 404: ended with NOT_FOUND."""
        ids = {"call_id": str(call.pk), "provider_call_id": call.provider_call_id}
        if not call.provider_call_id:
            return []
        try:
            found = self._get(f"/call/{quote(call.provider_call_id, safe='')}").answer
        except ProviderError as exc:
            if exc.http_status != 404:
                raise
            return [CallEvent(kind="status-update", status="ended", ended_reason=NOT_FOUND, **ids)]
        return self._events(found, **ids)

    def find_call(self, call: Call, *, created_from: datetime, created_to: datetime) -> list[CallEvent]:
        """The call Vapi created for `call` between the two times, found by our call id in its
        overrides' metadata (see `_body`), as events like fetch_status, Vapi's id set; [] if none
        (find_calls for one call)."""
        return self.find_calls([call], created_from=created_from, created_to=created_to)[str(call.pk)]

    def find_calls(
        self, calls: list[Call], *, created_from: datetime, created_to: datetime
    ) -> dict[str, list[CallEvent]]:
        """The calls Vapi created for `calls` between the two times, by our call id, from one
        listing per caller ID and assistant (a reaper's run asks once for all its lost calls).

        Vapi's List Calls, GET /call (operationId CallController_findAll in its OpenAPI document,
        VapiAI/docs fern/apis/api/openapi.json; `calls.list` in VapiAI/server-sdk-python), filters
        on id, assistantId, phoneNumberId, createdAtGt/Lt/Ge/Le and updatedAtGt/Lt/Ge/Le (ISO 8601)
        and takes `limit` (0 to 1000, default 100). It answers 200 with a bare JSON array of Call
        objects: no pagination, no documented order. So a full page means the window may hold
        more, and the parts it may hide in are asked next (`_unlisted`), FIND_REQUESTS requests at
        most per listing. The earliest of several calls carrying one of our ids wins. Raises
        ProviderError when Vapi does not answer 2xx.
        """
        groups: dict[tuple[tuple[str, str], ...], list[Call]] = {}
        for call in calls:
            target_key, target = call.campaign.target
            phone = call.phone_number
            query = {"phoneNumberId": phone.provider_phone_number_id or str(phone.pk)}  # as _body sent it
            if target_key == "assistantId":
                query["assistantId"] = target
            groups.setdefault(tuple(sorted(query.items())), []).append(call)
        found_events: dict[str, list[CallEvent]] = {str(call.pk): [] for call in calls}
        for query, group in groups.items():
            wanted = {str(call.pk) for call in group}
            windows, asked, listed = [(_ms(created_from), _ms(created_to))], 0, set()
            mine: dict[str, dict] = {}
            while windows and asked < FIND_REQUESTS and wanted - mine.keys():
                start, end = windows.pop()
                window = {"createdAtGe": _stamp(start), "createdAtLe": _stamp(end), "limit": FIND_PAGE}
                page = [_obj(found) for found in self._get(f"/call?{urlencode(dict(query) | window)}").listed]
                asked += 1
                listed |= {str(found.get("id")) for found in page}
                for found in page:
                    ours = _ids(found)["call_id"]
                    if ours in wanted and str(found.get("createdAt")) < str(
                        mine.get(ours, {}).get("createdAt", "~")
                    ):
                        mine[ours] = found
                if len(page) >= FIND_PAGE:
                    windows += _unlisted(page, start, end)
            for ours, found in mine.items():
                found_events[ours] = self._events(
                    found, call_id=ours, provider_call_id=_ids(found)["provider_call_id"]
                )
            if missing := wanted - mine.keys():
                gave_up = f"; stopped after {asked} requests, part of the window unasked" if windows else ""
                of = f" ({len(missing)} of {len(wanted)} asked for)" if len(wanted) > 1 else ""
                self.record(
                    "poll", f"GET /call: none of {len(listed)} calls listed carries our call id{of}{gave_up}"
                )
        return found_events

    def _events(self, found: dict, **ids: str) -> list[CallEvent]:
        """A Call object (GET /call/{id} or GET /call) as events: its status, its report once ended."""
        if found.get("status") not in STATUSES:
            return []
        events = [_event("status-update", found, raw=json.dumps(self.redact(found)), **ids)]
        if found["status"] == "ended" and (found.get("analysis") or found.get("artifact")):
            events.append(_event("end-of-call-report", found, raw=events[0].raw, **ids))
        return events

    def _body(self, call: Call) -> dict[str, Any]:
        """CreateCallDTO (spec §10): the campaign's and the customer's overrides merged (see the
        module docstring), under our server and metadata. Raises ProviderError (OVERRIDES_CONFLICT)
        when theirs carry a server of their own."""
        campaign, customer, account, phone = call.campaign, call.customer, self.account, call.phone_number
        target_key, target = campaign.target
        campaign_level, own = _overrides_of(campaign, customer, target_key)
        if target_key != "workflowId" and (clash := _clash(campaign_level, own, OVERRIDES[target_key])):
            raise ProviderError(
                f"not sent: {clash}, which our status callbacks would replace (that webhook would"
                " hear nothing); remove it, or use the campaign's server for campaign events",
                retryable=False,
                ended_reason=OVERRIDES_CONFLICT,
            )
        theirs = merge_overrides(merge_overrides(_outcome_overrides(campaign), campaign_level), own)
        server = {"url": self.webhook_address, "timeoutSeconds": 20}
        server["headers"] = {"X-Vapi-Secret": account.webhook_secret}
        metadata = {"campaignId": str(campaign.pk), "customerId": str(customer.pk), "callId": str(call.pk)}
        metadata |= {"customerIndex": customer.position, "attempt": call.attempt}
        ours = {
            "server": server,
            "serverMessages": _messages(theirs.get("serverMessages")),
            "metadata": metadata,
        }
        overrides = merge_overrides(theirs, ours)
        if campaign.machine_detection and "voicemailDetection" not in overrides:
            overrides["voicemailDetection"] = {"provider": "vapi"}
        if target_key == "workflowId":  # WorkflowOverrides holds nothing but variableValues
            overrides = {k: v for k, v in overrides.items() if k == "variableValues"}
        dto = {key: getattr(customer, f) for key, f in CUSTOMER_DTO.items() if getattr(customer, f)}
        if not customer.number_e164_check_enabled:
            # The number as the user typed it (a dialing string the provider reads as is); our
            # calling hours and do-not-call were decided on its canonical form.
            dto["number"] = customer.number_submitted or customer.number
            dto["numberE164CheckEnabled"] = False
        body = {target_key: target, "phoneNumberId": phone.provider_phone_number_id or str(phone.pk)}
        body |= {"customer": dto, "name": f"camp {str(campaign.pk)[:8]} #{customer.position}"[:40]}
        return body | ({OVERRIDES[target_key]: overrides} if overrides else {})

    def prepare_call(self, call: Call) -> Exchange:
        """POST /call, or an exchange that is never sent, its `error` set, when the body cannot be."""
        try:
            return self.exchange(call, "POST", "/call", self._body(call))
        except ProviderError as exc:
            exchange = self.exchange(call, "POST", "/call")
            exchange.summary, exchange.error = str(exc)[:200], exc
            return exchange

    def accepted(self, exchange: Exchange) -> str:
        """POST /call's answer: Vapi's call id. Raises ProviderError (see the module docstring)."""
        if exchange.error:
            raise exchange.error
        if not _text(exchange.answer.get("id"), 100):
            raise ProviderError("answered without a call id", retryable=False, ended_reason=REJECTED)
        return exchange.answer["id"]

    def request_of(self, exchange: Exchange) -> transport.Request | None:
        url = self.account.base_url.rstrip("/") + exchange.path
        if not self.target_allowed(exchange, url):
            return None
        headers = {"Authorization": f"Bearer {self.account.api_key}"}
        if exchange.body is None:
            return transport.Request(exchange.method, url, headers)
        headers["Content-Type"] = "application/json"
        return transport.Request(exchange.method, url, headers, orjson.dumps(exchange.body))

    def refused(self, exchange: Exchange, retry_after: int | None) -> ProviderError:
        """A refusal (see the module docstring): retryable for 5xx, 408, 429 and Vapi's
        concurrency limit; ended with Vapi's endedReason when it gives one."""
        code, data = exchange.status or 0, exchange.answer
        reason, said = _text(data.get("endedReason"), 200), str(self.redact(data.get("message") or ""))[:120]
        retryable = code >= 500 or code in (408, 429) or reason in RETRYABLE_REASONS
        text = f"{exchange.method} {exchange.path}: the provider answered {code} {said}".strip()
        return ProviderError(
            text,
            retryable=retryable,
            retry_after=retry_after,
            ended_reason=reason or (FAILED if retryable else REJECTED),
            http_status=code,
        )

    def _get(self, path: str) -> Exchange:
        """GET `path`, both halves recorded on the call's log. Returns the exchange; raises its error."""
        exchange = self.exchange(None, "GET", path)
        self.record("poll", exchange.request_summary)
        self.send(exchange, poll=True)
        self.record("poll", exchange.summary, http_status=exchange.status, body=exchange.answer_text)
        if exchange.error:
            raise exchange.error
        return exchange


def _outcome_overrides(campaign: Campaign) -> dict[str, Any]:
    """The campaign's analysis schema and objective (analysisPlan: the structured result Vapi
    extracts after the call, and the prompt it extracts it with) and what to do on a machine
    (voicemailDetection, and voicemailMessage: text to say, or a recording's URL, which Vapi plays;
    none: Vapi hangs up), in Vapi's terms, under the campaign's own overrides."""
    found: dict[str, Any] = {}
    if campaign.analysis_schema is not None:
        plan = {"structuredDataSchema": campaign.analysis_schema}
        if campaign.objective:
            plan["structuredDataPrompt"] = campaign.objective
        found["analysisPlan"] = plan
    voicemail = campaign.voicemail_plan or {}
    if voicemail.get("action"):
        found["voicemailDetection"] = {"provider": "vapi"}
    if voicemail.get("action") == "leave-message":
        found["voicemailMessage"] = voicemail.get("message") or voicemail.get("recording_url")
    return found


def _read(body: bytes | str) -> tuple[dict, dict, dict, Any]:
    """A server message's JSON, its `message`, the message's call ({} if none) and its type.
    Raises ValueError and the errors of reading a body that is no {"message": {...}}."""
    payload = orjson.loads(body)
    message = payload["message"]
    return payload, message, _obj(message.get("call")), message.get("type")


def _acted_on(message: dict, kind: Any) -> bool:
    """A status update to a status we know, or an end-of-call report (the messages we record)."""
    return kind in MESSAGES and (kind == "end-of-call-report" or message.get("status") in STATUSES)


def _ids(call: dict) -> dict[str, str]:
    """Our call id from the overrides' metadata (or the call's own), and the provider's id."""
    found = [_obj(_obj(call.get(key)).get("metadata")) for key in OVERRIDES.values()]
    metadata = next(filter(None, found), _obj(call.get("metadata")))
    try:
        call_id = str(uuid.UUID(_text(metadata.get("callId"), 36)))
    except ValueError:
        call_id = ""
    return {"call_id": call_id, "provider_call_id": _text(call.get("id"), 100)}


def _event(kind: str, source: dict, **common: Any) -> CallEvent:
    """An event from a server message merged over its call, or from a Call object (GET /call)."""
    artifact, analysis = _obj(source.get("artifact")), _obj(source.get("analysis"))
    recording = _obj(artifact.get("recording"))
    mono = artifact.get("recordingUrl") or _obj(recording.get("mono")).get("combinedUrl")
    stereo = artifact.get("stereoRecordingUrl") or recording.get("stereoUrl")
    status = "ended" if kind == "end-of-call-report" else source["status"]
    return CallEvent(
        kind=kind,
        status=status,
        ended_reason=_text(source.get("endedReason"), 200) if status == "ended" else "",
        started_at=_when(source.get("startedAt")),
        ended_at=_when(source.get("endedAt")) if status == "ended" else None,
        cost=_cost(source.get("cost")),
        cost_unit="USD",  # Vapi's costs are in dollars
        summary=_text(analysis.get("summary")),
        transcript=_text(artifact.get("transcript")),
        recording_url=_text(mono, 500, WEB),
        stereo_recording_url=_text(stereo, 500, WEB),
        analysis=analysis or None,
        structured_data=data if isinstance(data := analysis.get("structuredData"), dict) else None,
        **common,
    )


def _line(message: dict, call: dict) -> list[CallEvent]:
    """A `transcript` server message as a line of the call's live transcript: a final one only
    (partial ones are the transcriber's drafts of the same words), from a known speaker, with
    words. Not kept on the call's log (a line is its own record: services.transcripts)."""
    role, text = message.get("role"), message.get("transcript")
    if message.get("transcriptType") != "final" or role not in ROLES:
        return []
    if not isinstance(text, str) or not (text := text.strip()[: TranscriptLine.TEXT_LIMIT]):
        return []
    at = _when(message.get("timestamp"))
    return [CallEvent(kind=TRANSCRIPT, status="", role=role, transcript=text, at=at, **_ids(call))]


def _unlisted(page: list[dict], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Where the calls a full page of GET /call left out may be: the window [start, end] cut in
    two at a millisecond (Vapi's createdAt precision), each part narrower, the likeliest last
    (asked first). A page listed newest first most likely left out calls at or before its
    oldest, oldest first at or after its newest; in any other order, either side of its median.
    [] when the window is one instant: more than a page of calls in a millisecond."""
    listed = [when for when in (_when(found.get("createdAt")) for found in page) if when]
    if not listed or start >= end:
        return []
    if listed == sorted(listed, reverse=True) and start <= listed[-1] < end:
        return [(listed[-1] + MS, end), (start, listed[-1])]
    if listed == sorted(listed) and start < listed[-1] <= end:
        return [(start, listed[-1] - MS), (listed[-1], end)]
    middle = min(max(sorted(listed)[len(listed) // 2], start), end - MS)
    return [(middle + MS, end), (start, middle)]


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _stamp(moment: datetime) -> str:
    """An ISO 8601 time in UTC with milliseconds, as Vapi writes createdAt."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def merge_overrides(under: dict, over: dict) -> dict:
    """`over` deep-merged onto `under` (neither is changed): where both hold an object the two
    merge key by key, at any depth; anywhere else `over`'s value wins as it is, arrays (replaced
    whole, never concatenated) and null (kept: it does not remove the key) included."""
    both = {k for k, v in over.items() if isinstance(v, dict) and isinstance(under.get(k), dict)}
    return under | {k: merge_overrides(under[k], v) if k in both else v for k, v in over.items()}


def _overrides_of(campaign: Campaign, customer: Customer, target_key: str) -> tuple[dict, dict]:
    """(the campaign's overrides, the customer's) for the campaign's target: a squad's
    `squadOverrides` (a squad customer stored before they existed has only v1's
    `assistantOverrides`: those stand in), an assistant's `assistantOverrides`; a workflow has
    the customer's alone (there are no campaign-level workflow overrides)."""
    if target_key == "squadId":
        own = (
            customer.squad_overrides if customer.squad_overrides is not None else customer.assistant_overrides
        )
        return _obj(campaign.squad_overrides), _obj(own)
    if target_key == "assistantId":
        return _obj(campaign.assistant_overrides), _obj(customer.assistant_overrides)
    return {}, _obj(customer.assistant_overrides)


def _messages(theirs: Any) -> list[str]:
    """Their serverMessages (the text ones, in order, once each) with the ones we need added."""
    listed = [m for m in theirs if isinstance(m, str)] if isinstance(theirs, list) else []
    return list(dict.fromkeys([*listed, *MESSAGES]))


def _clash(campaign_level: dict, own: dict, name: str) -> str:
    """Which of their overrides carry a server of their own, in words; "" if none."""
    found = [
        f"the {whose}'s {name}.{key}"
        for whose, overrides in (("customer", own), ("campaign", campaign_level))
        for key in OUR_KEYS
        if overrides.get(key) is not None
    ]
    return " and ".join(found)


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = 10**7, starts: tuple[str, ...] = ("",)) -> str:
    return value if isinstance(value, str) and len(value) <= limit and value.startswith(starts) else ""


def _when(value: Any) -> datetime | None:
    """Milliseconds since the epoch (message.timestamp) or ISO 8601 (startedAt, endedAt), as aware UTC."""
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return datetime.fromtimestamp(value / 1000, tz=UTC) if type(value) in (int, float) else None
    except (ValueError, OverflowError, OSError):
        return None


def _cost(value: Any) -> Decimal | None:
    try:  # None, booleans, objects and NaN all raise here
        cost = Decimal(str(value))
        return cost.quantize(Decimal("0.0001")) if 0 <= cost < 10**6 else None
    except InvalidOperation:
        return None
