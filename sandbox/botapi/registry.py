"""The explicit table of implemented Bot API methods, keyed by lower-case name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import botmeta, media, messages

if TYPE_CHECKING:
    from .calls import MethodSpec

METHODS: dict[str, MethodSpec] = {
    method.name.lower(): method for method in [*botmeta.METHODS, *messages.METHODS, *media.METHODS]
}
