"""Kavenegar: sms/send (idempotent by localid), verify/lookup templates, sms/status."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from .base import (
    DeliveryState,
    ErrorMap,
    SmsPermanentError,
    SmsProviderError,
    SmsReceipt,
    SmsRecipientError,
    SmsTemplate,
    SmsTransientError,
)
from .http import HttpSmsProvider

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# return.status → error class (kavenegar.com/rest.html, as transcribed by public clients).
ERRORS: ErrorMap = {
    400: SmsPermanentError,  # parameters missing
    401: SmsProviderError,  # API key invalid (one client lists 401 as "account disabled")
    402: SmsTransientError,  # operation failed, no reason given
    403: SmsProviderError,  # API key invalid (per the same client)
    404: SmsPermanentError,  # no such method
    405: SmsPermanentError,  # GET/POST wrong
    407: SmsProviderError,  # access denied (IP allow list)
    409: SmsTransientError,  # server cannot answer, try later
    411: SmsRecipientError,  # receptor invalid
    412: SmsProviderError,  # sender line invalid
    413: SmsPermanentError,  # message empty or too long
    414: SmsPermanentError,  # too many records in one call
    416: SmsProviderError,  # calling IP does not match the settings
    417: SmsPermanentError,  # date invalid
    418: SmsProviderError,  # credit insufficient
    419: SmsPermanentError,  # array lengths differ
    420: SmsPermanentError,  # links not allowed in texts
    422: SmsPermanentError,  # characters not allowed
    424: SmsProviderError,  # template not found or not approved
    426: SmsProviderError,  # method needs the advanced plan
    427: SmsProviderError,  # line needs an access level
    428: SmsPermanentError,  # voice call not possible
    429: SmsTransientError,  # IP limited
    431: SmsPermanentError,  # token structure invalid
    432: SmsPermanentError,  # token parameter missing from the text
    451: SmsTransientError,  # too many calls in a time window
    501: SmsProviderError,  # test account: only the owner's number
}
STATES = {
    1: DeliveryState.QUEUED,
    2: DeliveryState.QUEUED,  # scheduled
    4: DeliveryState.SENT,
    5: DeliveryState.SENT,
    6: DeliveryState.FAILED,
    10: DeliveryState.DELIVERED,
    11: DeliveryState.UNDELIVERED,
    13: DeliveryState.FAILED,  # cancelled
    14: DeliveryState.FAILED,  # blocked by the recipient
    100: DeliveryState.UNKNOWN,
}
STATUS_BATCH = 500  # ids per sms/status call (Kavenegar's documented limit)
TOKEN_SLOTS = ("token", "token2", "token3", "token10", "token20")
_TOKEN_SPACES = {"token": 0, "token2": 0, "token3": 0, "token10": 5, "token20": 8}


def localid(idempotency_key: str) -> str:
    """The numeric ``localid`` for a key: itself if it is a short number, else a 60-bit hash."""
    if idempotency_key.isascii() and idempotency_key.isdigit() and len(idempotency_key) <= 18:
        return idempotency_key
    return str(int(hashlib.sha256(idempotency_key.encode()).hexdigest()[:15], 16))


class KavenegarSms(HttpSmsProvider):
    """Kavenegar's REST API; the key travels in the URL path, so URLs are never logged."""

    name = "kavenegar"
    supports_templates = True
    max_parts = 13  # 900 characters at most, 67 per Persian part
    idempotent = True  # sms/send only: verify/lookup takes no localid
    default_base_url = "https://api.kavenegar.com"
    errors = ERRORS

    def _url(self, scope: str, method: str) -> str:
        return f"{self.base_url}/v1/{self._api_key}/{scope}/{method}.json"

    async def _post(self, scope: str, method: str, form: dict[str, str]) -> Any:
        """POST a form; the envelope's entries, or the typed error for return.status."""
        status, body, retry_after = await self._call(
            "POST", self._url(scope, method), data=form, headers={"Accept": "application/json"}
        )
        code = _return_status(body)
        if status == 200 and code == 200:
            return body.get("entries")
        if code is None and status == 200:
            raise SmsTransientError(self.name, "bad-response", "no envelope in a 200 answer")
        raise self._error(code or status, status, retry_after)

    async def _send(self, to: str, text: str, idempotency_key: str) -> SmsReceipt:
        form = {"receptor": to, "message": text, "localid": localid(idempotency_key)}
        if self.sender:
            form["sender"] = self.sender
        return self._receipt(await self._post("sms", "send", form))

    async def _send_template(
        self, to: str, template: SmsTemplate, params: Mapping[str, str], _idempotency_key: str
    ) -> SmsReceipt:
        form = {"receptor": to, "template": template.id, "type": "sms"}
        form.update(self._tokens(template, params))
        return self._receipt(await self._post("verify", "lookup", form))

    async def status(self, receipt_id: str) -> DeliveryState:
        """The state from sms/status (status 100, unknown id, gives UNKNOWN)."""
        entries = await self._post("sms", "status", {"messageid": self._own_id(receipt_id)})
        entry = _first(entries, self.name)
        return STATES.get(int(entry.get("status", 100)), DeliveryState.UNKNOWN)

    async def statuses(self, receipt_ids: Sequence[str]) -> Mapping[str, DeliveryState]:
        """Many states in one sms/status call per 500 ids (Kavenegar takes them comma-separated);
        ids it does not answer for are left out."""
        answer: dict[str, DeliveryState] = {}
        for start in range(0, len(receipt_ids), STATUS_BATCH):
            refs = receipt_ids[start : start + STATUS_BATCH]
            own = [self._own_id(ref) for ref in refs]
            entries = await self._post("sms", "status", {"messageid": ",".join(own)})
            found = {
                str(e.get("messageid")): STATES.get(int(e.get("status", 100)))
                for e in (entries if isinstance(entries, list) else [])
                if isinstance(e, dict)
            }
            for ref, message_id in zip(refs, own, strict=True):
                if message_id in found:
                    answer[ref] = found[message_id] or DeliveryState.UNKNOWN
        return answer

    def _receipt(self, entries: Any) -> SmsReceipt:
        entry = _first(entries, self.name)
        state = STATES.get(int(entry.get("status", 1)), DeliveryState.QUEUED)
        return SmsReceipt(self.name, str(entry["messageid"]), state)

    def _tokens(self, template: SmsTemplate, params: Mapping[str, str]) -> dict[str, str]:
        """Our parameters in Kavenegar's token slots, checked against its token rules."""
        if template.params:
            if set(params) != set(template.params) or len(params) > len(TOKEN_SLOTS):
                raise SmsPermanentError(self.name, "params", "parameters do not fit the template")
            tokens = {TOKEN_SLOTS[i]: params[name] for i, name in enumerate(template.params)}
        else:
            tokens = dict(params)
        if "token" not in tokens or not set(tokens) <= set(TOKEN_SLOTS):
            raise SmsPermanentError(self.name, "params", "tokens must be token, token2 … token20")
        for slot, value in tokens.items():
            if not value.strip() or len(value) > 100 or value.count(" ") > _TOKEN_SPACES[slot]:
                raise SmsPermanentError(self.name, "token", f"{slot} breaks the token rules")
        return tokens


def _return_status(body: Any) -> int | None:
    try:
        return int(body["return"]["status"])
    except (TypeError, KeyError, ValueError):
        return None


def _first(entries: Any, provider: str) -> dict[str, Any]:
    """The first entry; a 200 without one means we cannot tell what happened: retry."""
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        return entries[0]
    raise SmsTransientError(provider, "bad-response", "no entries in a 200 answer")
