"""The typed context every handler gets: services, the user's language and patient."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.arrivals import Arrivals
from clinic.i18n import translator

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.flood import FloodGate
    from clinic.actors import Actor
    from clinic.clock import Clock
    from clinic.files import FileStore
    from clinic.models import Platform
    from clinic.policy import Department, Policy
    from clinic.uow import UnitOfWork


@dataclass
class BotServices:
    """What handlers need from the rest of the system (built by the composition root)."""

    uow: Callable[[], UnitOfWork]
    clock: Clock
    policy: Policy
    department: Department
    files: FileStore
    platform: Platform
    bot_username: str = ""


PRUNE_EVERY = 600.0  # seconds between prunings of the once-only record


@dataclass
class BotData:
    """Application-wide data; ContextTypes needs a class that builds without arguments."""

    services: BotServices | None = None
    flood: FloodGate | None = None  # per-account flood control, told who is staff
    arrivals: Arrivals = field(default_factory=Arrivals)  # once-only records and identities
    pruned_at: float = field(default_factory=time.monotonic)

    def prune_due(self) -> bool:
        """True once every PRUNE_EVERY seconds (the caller then prunes)."""
        now = time.monotonic()
        if now - self.pruned_at < PRUNE_EVERY:
            return False
        self.pruned_at = now
        return True


@dataclass
class Visitor:
    """Who sent this update, resolved once per update."""

    lang: str = "fa"
    user_id: int | None = None  # the chat account's, on this bot's platform
    patient_id: int | None = None  # the account's own record (else the first it acts for)
    patient_ids: list[int] = field(default_factory=list)  # own first, then family members
    staff: Actor | None = None  # roles read from the database for this very update
    worker: Actor | None = None


class BotContext(CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], BotData]):
    """CallbackContext with typed access to services, language and the patient."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.visitor = Visitor()

    @property
    def services(self) -> BotServices:
        """The services wired in by the composition root."""
        services = self.bot_data.services
        assert services is not None, "BotData.services is set before the bot starts"
        return services

    @property
    def data(self) -> dict[str, Any]:
        """The user's persisted draft (ids and choices, never message text)."""
        data = self.user_data
        assert data is not None, "updates with a user always have user data"
        return data

    @property
    def lang(self) -> str:
        """The language to answer in."""
        return self.visitor.lang

    def _(self, message: str) -> str:
        """Translate ``message`` into the user's language."""
        return translator(self.visitor.lang).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate with a plural form."""
        return translator(self.visitor.lang).ngettext(singular, plural, n)
