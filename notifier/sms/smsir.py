"""SMS.ir v1 REST: send/bulk, send/verify templates, send/{id} reports (no idempotency key)."""

from __future__ import annotations

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
    from collections.abc import Mapping

# Body "status" → error class, from the code table public SMS.ir clients carry.
ERRORS: ErrorMap = {
    0: SmsTransientError,  # unexpected server error
    10: SmsProviderError,  # API key invalid
    11: SmsProviderError,  # API key disabled
    12: SmsProviderError,  # API key limited to other IPs
    13: SmsProviderError,  # account inactive
    14: SmsProviderError,  # account suspended
    15: SmsProviderError,  # plan does not include the web service
    16: SmsPermanentError,  # parameter value wrong
    20: SmsTransientError,  # too many requests
    101: SmsProviderError,  # line number invalid
    102: SmsProviderError,  # credit insufficient
    103: SmsPermanentError,  # empty text
    104: SmsRecipientError,  # mobile invalid
    105: SmsPermanentError,  # more than 100 mobiles
    107: SmsPermanentError,  # mobile list empty
    109: SmsPermanentError,  # send time invalid
    111: SmsPermanentError,  # no message with this id
    113: SmsProviderError,  # template not found
    114: SmsPermanentError,  # parameter value longer than 25 characters
    115: SmsRecipientError,  # mobile on the blacklist
    116: SmsPermanentError,  # parameter name missing
    117: SmsPermanentError,  # text not approved
    118: SmsPermanentError,  # too many messages
    119: SmsProviderError,  # custom templates need a plan upgrade
    123: SmsProviderError,  # sender line needs activation
}
# deliveryState per public clients: 1 delivered, 2 not delivered, 3 at the telecom,
# 4 not reached the telecom, 5 reached the operator, 6 failed, 7 blacklisted; null: no report yet.
STATES = {
    1: DeliveryState.DELIVERED,
    2: DeliveryState.UNDELIVERED,
    3: DeliveryState.SENT,
    4: DeliveryState.FAILED,
    5: DeliveryState.SENT,
    6: DeliveryState.FAILED,
    7: DeliveryState.FAILED,
}
_NOT_FOUND = 111


class SmsIrSms(HttpSmsProvider):
    """SMS.ir's v1 REST API (``X-API-KEY`` header, JSON). It has no client reference, so a
    repeated send after a lost answer can reach the phone twice."""

    name = "smsir"
    supports_templates = True
    max_parts = 8  # not documented; a notice should stay at one or two parts anyway
    default_base_url = "https://api.sms.ir"
    errors = ERRORS

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        """The envelope's data, or the typed error for its status."""
        headers = {"X-API-KEY": self._api_key, "Accept": "application/json"}
        status, envelope, retry_after = await self._call(
            method, f"{self.base_url}/v1/{path}", json=body, headers=headers
        )
        code = _status(envelope)
        if status == 200 and code == 1:
            return envelope.get("data")
        if code is None and status == 200:
            raise SmsTransientError(self.name, "bad-response", "no envelope in a 200 answer")
        raise self._error(status if code is None else code, status, retry_after)

    async def _send(self, to: str, text: str, _idempotency_key: str) -> SmsReceipt:
        # The official SDKs send the line as a JSON number; the server's model has it as one.
        line: int | str = int(self.sender) if self.sender.isdigit() else self.sender
        body = {"lineNumber": line, "messageText": text, "mobiles": [to], "sendDateTime": None}
        data = await self._request("POST", "send/bulk", body)
        try:
            return SmsReceipt(self.name, str(data["messageIds"][0]))
        except (TypeError, KeyError, IndexError):
            raise SmsTransientError(self.name, "bad-response", "no message id") from None

    async def _send_template(
        self, to: str, template: SmsTemplate, params: Mapping[str, str], _idempotency_key: str
    ) -> SmsReceipt:
        if not template.id.isdigit():
            raise SmsProviderError(self.name, "template", "SMS.ir template ids are numbers")
        parameters = [{"name": name, "value": value} for name, value in params.items()]
        body = {"mobile": to, "templateId": int(template.id), "parameters": parameters}
        data = await self._request("POST", "send/verify", body)
        try:
            return SmsReceipt(self.name, str(data["messageId"]))
        except (TypeError, KeyError):
            raise SmsTransientError(self.name, "bad-response", "no message id") from None

    async def status(self, receipt_id: str) -> DeliveryState:
        """The state from the message report (an unknown id gives UNKNOWN)."""
        own = self._own_id(receipt_id)
        if not own.isdigit():
            return DeliveryState.UNKNOWN
        try:
            data = await self._request("GET", f"send/{own}")
        except SmsPermanentError as exc:
            if exc.code == _NOT_FOUND:
                return DeliveryState.UNKNOWN
            raise
        state = data.get("deliveryState") if isinstance(data, dict) else None
        return DeliveryState.QUEUED if state is None else STATES.get(state, DeliveryState.UNKNOWN)


def _status(envelope: Any) -> int | None:
    try:
        return int(envelope["status"])
    except (TypeError, KeyError, ValueError):
        return None
