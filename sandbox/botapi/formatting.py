"""Telegram's HTML parse mode: turn markup into plain text plus MessageEntity objects."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from .errors import ApiError, bad_request

JSON = dict[str, Any]

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class _EntityParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.units = 0
        self.stack: list[tuple[str, JSON]] = []
        self.entities: list[JSON] = []
        self.error: str | None = None

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        entity = self._entity_for(tag, dict(attrs))
        if entity is None:
            self._fail(f'Unsupported start tag "{tag}"')
            return
        entity["offset"] = self.units
        self.stack.append((tag, entity))

    def _entity_for(self, tag: str, attrs: dict[str, str | None]) -> JSON | None:
        language = attrs.get("class") or ""
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            if language.startswith("language-"):
                self.stack[-1][1]["language"] = language.removeprefix("language-")
            return {"type": "_plain"}
        if tag in _SIMPLE:
            return {"type": _SIMPLE[tag]}
        if tag == "span" and language == "tg-spoiler":
            return {"type": "spoiler"}
        if tag == "a":
            href = attrs.get("href") or ""
            return {"type": "text_link", "url": href} if href else {"type": "_plain"}
        if tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
            return {"type": kind}
        if tag == "tg-emoji" and attrs.get("emoji-id"):
            return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
        return None

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self._fail(f'Unexpected end tag "{tag}"')
            return
        _, entity = self.stack.pop()
        entity["length"] = self.units - entity["offset"]
        if entity["length"] > 0 and entity["type"] != "_plain":
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.units += utf16_len(data)


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Plain text and entities of an HTML-formatted text, or the 400 Telegram would answer."""
    parser = _EntityParser()
    parser.feed(source)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"'
    if parser.error is not None:
        raise bad_request(f"can't parse entities: {parser.error}")
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


def apply_parse_mode(
    source: str, parse_mode: str | None, entities: Any, allowed_modes: frozenset[str]
) -> tuple[str, list[JSON]]:
    """Text and entities as Telegram stores them.

    Only HTML is parsed; MarkdownV2 and Markdown are accepted and kept verbatim (documented gap).
    """
    if parse_mode is None:
        return source, _checked_entities(entities)
    if parse_mode not in allowed_modes:
        raise bad_request("unsupported parse_mode")
    if parse_mode == "HTML":
        return parse_html(source)
    return source, []


def _checked_entities(entities: Any) -> list[JSON]:
    if entities is None:
        return []
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise bad_request("can't parse entities JSON object")
    return list(entities)


def check_length(text: str, limit: int, error: ApiError) -> None:
    """Raise ``error`` when the text is longer than ``limit``.

    Counts Python characters (code points), not UTF-16 units: Persian text is all in the BMP, so
    the two agree except for emoji and other astral characters.
    """
    if len(text) > limit:
        raise error
