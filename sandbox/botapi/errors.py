"""Bot API error replies with the exact descriptions Telegram sends and PTB maps to exceptions."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
MARKUP_TOO_LONG = "Bad Request: REPLY_MARKUP_TOO_LONG"
MARKUP_INVALID = "Bad Request: can't parse reply keyboard markup JSON object"
INLINE_EXPECTED = "Bad Request: inline keyboard expected"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CHAT_NOT_FOUND = "Bad Request: chat not found"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
CANT_EDIT = "Bad Request: message can't be edited"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
INVALID_FILE_ID = "Bad Request: invalid file_id"
FILE_EMPTY = "Bad Request: file must be non-empty"
IMAGE_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
BAD_ACTION = "Bad Request: wrong parameter action in request"
BAD_PARSE_MODE = "Bad Request: unsupported parse_mode"
COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
BLOCKED = "Forbidden: bot was blocked by the user"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
TERMINATED = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


class ApiError(Exception):
    """A Bot API failure: HTTP status, Telegram's description and optional retry_after."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    """A 400 whose description is given with or without the "Bad Request: " prefix."""
    prefix = "Bad Request: "
    return ApiError(400, description if description.startswith(prefix) else prefix + description)


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 flood-control error as Telegram words it."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
