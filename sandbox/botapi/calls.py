"""What a Bot API method is to the sandbox: its declared parameters and its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .params import Params
    from .world import BotState, World


@dataclass(frozen=True)
class Call:
    """One Bot API call: the world, the calling bot and the parameters."""

    world: World
    bot: BotState
    params: Params


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class MethodSpec:
    """A method by its Bot API name, the parameters it accepts and whether it is a send.

    Parameters outside ``params`` are ignored, as Telegram ignores unknown ones; a test checks
    that every declared name is a real parameter of the method in the published spec.
    ``sends`` marks send* and edit* calls, the ones flood control counts.
    """

    name: str
    params: frozenset[str]
    handler: Handler
    sends: bool = False


def spec(name: str, params: str, handler: Handler, *, sends: bool = False) -> MethodSpec:
    """A MethodSpec with its parameter names given as one space-separated string."""
    return MethodSpec(name, frozenset(params.split()), handler, sends)
