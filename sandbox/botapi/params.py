"""Request parameters from a query string, a form, multipart form data or a JSON body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import bad_request


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """The parameters of one call; every getter checks the name was declared for the method."""

    def __init__(
        self, values: dict[str, Any], uploads: dict[str, Upload], allowed: frozenset[str]
    ) -> None:
        self._values = values
        self._uploads = uploads
        self.allowed = allowed

    def _raw(self, name: str) -> Any:
        if name not in self.allowed:
            raise AssertionError(f"parameter {name!r} is not declared for this method")
        value = self._values.get(name)
        return None if value == "" else value

    def get_str(self, name: str) -> str | None:
        """A string parameter; numbers sent in JSON bodies are turned into their text."""
        value = self._raw(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"parameter {name} must be a String")
        return str(value)

    def require_str(self, name: str) -> str:
        """A string parameter that must be present."""
        value = self.get_str(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def get_int(self, name: str) -> int | None:
        """An integer parameter, from a number or its decimal text."""
        value = self._raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad_request(f"parameter {name} must be an Integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise bad_request(f"parameter {name} must be an Integer")

    def require_int(self, name: str) -> int:
        """An integer parameter that must be present."""
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def get_float(self, name: str) -> float | None:
        """A number parameter."""
        value = self._raw(name)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"parameter {name} must be a Float number") from None

    def get_bool(self, name: str) -> bool:
        """A Boolean parameter; absent means False, as in the Bot API."""
        value = self._raw(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def get_json(self, name: str) -> Any:
        """A JSON-serialised parameter: form fields carry it as text, JSON bodies natively."""
        value = self._raw(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def get_file(self, name: str) -> Upload | str | None:
        """An InputFile: an uploaded part, an ``attach://`` reference, or a file_id/URL text."""
        if name not in self.allowed:
            raise AssertionError(f"parameter {name!r} is not declared for this method")
        if name in self._uploads:
            return self._uploads[name]
        value = self.get_str(name)
        if value is not None and value.startswith("attach://"):
            upload = self._uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"can't find attached file {value}")
            return upload
        return value


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Merge the query string with the body, whatever its encoding; the body wins."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    ctype = request.content_type
    if ctype == "application/json":
        body = await request.read()
        if body.strip():
            try:
                decoded = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(decoded, dict):
                raise bad_request("JSON object expected")
            values.update(decoded)
    elif ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploads[key] = Upload(value.file.read(), value.filename, value.content_type)
            else:
                values[key] = value
    return values, uploads
