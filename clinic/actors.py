"""Who is acting: a patient, a health worker, staff (with roles), the system, or a chat account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from clinic.errors import NotAllowed
from clinic.models import ActorKind, Role

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True)
class Actor:
    """The caller of a use case, as the front end established it."""

    kind: ActorKind
    id: int | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    # The sites a staff member's roles hold at; None: university-wide (clinic/sites.py).
    sites: frozenset[int] | None = None

    @classmethod
    def patient(cls, patient_id: int) -> Actor:
        """The patient ``patient_id`` (a chat account acts as the patient it is linked to)."""
        return cls(ActorKind.PATIENT, patient_id)

    @classmethod
    def health_worker(cls, worker_id: int) -> Actor:
        """The health worker ``worker_id``."""
        return cls(ActorKind.HEALTH_WORKER, worker_id)

    @classmethod
    def staff(
        cls, staff_id: int, roles: Iterable[Role], sites: Iterable[int] | None = None
    ) -> Actor:
        """The staff member ``staff_id``, holding ``roles`` at ``sites`` (None: at all)."""
        held = frozenset(sites) if sites is not None else None
        return cls(ActorKind.STAFF, staff_id, frozenset(roles), held or None)

    @classmethod
    def system(cls) -> Actor:
        """The service itself, not a person (a hospital event, a limit, a scheduled job)."""
        return cls(ActorKind.SYSTEM)

    @classmethod
    def chat_account(cls) -> Actor:
        """A chat account not known to be anyone yet (its ids go in the audit details)."""
        return cls(ActorKind.CHAT_ACCOUNT)

    @property
    def is_staff(self) -> bool:
        """Whether a staff member is acting."""
        return self.kind is ActorKind.STAFF

    def require_role(self, *roles: Role) -> None:
        """Raise NotAllowed unless this is the system or staff holding one of ``roles``."""
        if self.kind is ActorKind.SYSTEM:
            return
        if self.kind is ActorKind.STAFF and (Role.ADMIN in self.roles or self.roles & set(roles)):
            return
        raise NotAllowed()

    @property
    def audited(self) -> bool:
        """Staff, health-worker, system and unknown chat accounts' actions are audited."""
        return self.kind is not ActorKind.PATIENT  # patients' own actions are theirs
