"""Who is acting: a patient, a health worker, staff (with roles), the system, or a chat account."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from clinic.errors import NotAllowed
from clinic.models import ActorKind, Role

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


@dataclass(frozen=True)
class Actor:
    """The caller of a use case, as the front end established it."""

    kind: ActorKind
    id: int | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    # The roles held at some sites only, each with its sites; a role not here is held at
    # every site (clinic/sites.py).
    scopes: tuple[tuple[Role, frozenset[int]], ...] = ()
    # The roles a use case acts under (``require_role``); None: not said yet.
    acting: frozenset[Role] | None = None
    # A patient's chat account acting for its family members too: their patient ids.
    family: frozenset[int] = frozenset()

    @property
    def sites(self) -> frozenset[int] | None:
        """The sites the actor may see and act on (None: every site, or not staff).

        Under ``acting`` roles, the sites of those of them it holds (an admin's for any role):
        every site when one of them is held everywhere. Before a use case says its roles, the
        strictest: the sites of the roles held at some sites only.
        """
        if self.kind is not ActorKind.STAFF or not self.scopes:
            return None
        held = dict(self.scopes)
        if self.acting is None:
            return frozenset().union(*held.values())
        using = [r for r in self.roles if r in self.acting or r is Role.ADMIN]
        if any(r not in held for r in using):
            return None
        return frozenset().union(*(held[r] for r in using))

    @classmethod
    def patient(cls, patient_id: int, family: Iterable[int] = ()) -> Actor:
        """The patient ``patient_id`` (a chat account acts as the patient it is linked to),
        who may act for the patients ``family`` too (those the account also acts for)."""
        return cls(ActorKind.PATIENT, patient_id, family=frozenset(family) - {patient_id})

    def acts_for(self, patient_id: int) -> bool:
        """Whether this patient acts for ``patient_id``: themself, or a family member."""
        return self.kind is ActorKind.PATIENT and (
            patient_id == self.id or patient_id in self.family
        )

    @classmethod
    def health_worker(cls, worker_id: int) -> Actor:
        """The health worker ``worker_id``."""
        return cls(ActorKind.HEALTH_WORKER, worker_id)

    @classmethod
    def staff(
        cls,
        staff_id: int,
        roles: Iterable[Role],
        sites: Iterable[int] | None = None,
        role_sites: Mapping[Role, Iterable[int]] | None = None,
    ) -> Actor:
        """The staff member ``staff_id``, holding ``roles`` at ``sites`` (None or empty: at
        every site), a role in ``role_sites`` at its own sites instead."""
        held, every = frozenset(roles), frozenset(sites or ())
        scopes = []
        for role in sorted(held):
            at = frozenset(role_sites[role]) if role_sites and role in role_sites else every
            if at:
                scopes.append((role, at))
        return cls(ActorKind.STAFF, staff_id, held, tuple(scopes))

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

    def require_role(self, *roles: Role) -> Actor:
        """Raise NotAllowed unless this is the system or staff holding one of ``roles``; the
        actor acting under them (its ``sites`` are those roles' sites)."""
        if self.kind is ActorKind.SYSTEM:
            return self
        if self.kind is ActorKind.STAFF and (Role.ADMIN in self.roles or self.roles & set(roles)):
            return replace(self, acting=frozenset(roles))
        raise NotAllowed()

    @property
    def audited(self) -> bool:
        """Staff, health-worker, system and unknown chat accounts' actions are audited."""
        return self.kind is not ActorKind.PATIENT  # patients' own actions are theirs
