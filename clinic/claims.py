"""Taking over a record on file once its mobile's one-time code was typed
(``clinic.identity_checks``): a chat account as the patient's own, or a health worker taking
the patient on. Each is audited, and the mobile on record is told by SMS (as banks tell of a
new device), so an owner who did not ask learns of it at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic import audit, identity_checks
from clinic.errors import NotAllowed
from clinic.identity_checks import Asker, Proof
from clinic.models import ActorKind
from clinic.patients import get_patient, link_chat_account

if TYPE_CHECKING:
    from clinic.actors import Actor
    from clinic.link_limits import ChatUser
    from clinic.models import Patient
    from clinic.uow import UnitOfWork


async def claim_own_record(uow: UnitOfWork, who: ChatUser, chat_id: int, check_id: int) -> Patient:
    """Link the chat account as the patient's own, after the code sent to their mobile.

    Raises CheckNeeded (the check is not confirmed, spent, expired, or was for a new record).
    """
    asker = Asker.of_chat(who)
    patient = await get_patient(
        uow, await identity_checks.confirmed_record(uow, asker, check_id, "self")
    )
    check = await identity_checks.spend(
        uow, Proof(asker, check_id, "self"), patient.national_code, patient.id
    )
    await link_chat_account(uow, patient.id, who.platform, who.user_id, chat_id)
    await identity_checks.tell_record_linked(uow, check)
    await audit.record(
        uow, asker.actor, "patient.claim", "patient", patient.id,
        evidence="sms_code", check_id=check.id, **asker.ids,
    )  # fmt: skip
    return patient


async def take_on(uow: UnitOfWork, worker: Actor, check_id: int) -> Patient:
    """Make the patient the health worker's own, after the code sent to their mobile (the
    patient beside the worker gave it: the evidence is kept in the audit log).

    Raises NotAllowed (not a health worker), CheckNeeded.
    """
    if worker.kind is not ActorKind.HEALTH_WORKER or worker.id is None:
        raise NotAllowed()
    asker = Asker.health_worker(worker.id)
    patient = await get_patient(
        uow, await identity_checks.confirmed_record(uow, asker, check_id, "health_worker")
    )
    check = await identity_checks.spend(
        uow, Proof(asker, check_id, "health_worker"), patient.national_code, patient.id
    )
    before = patient.health_worker_id
    patient.health_worker_id = worker.id
    patient.updated_at = uow.clock.now()
    await identity_checks.tell_record_linked(uow, check)
    await audit.record(
        uow, worker, "patient.take_on", "patient", patient.id,
        evidence="sms_code", check_id=check.id, had_worker=before is not None,
    )  # fmt: skip
    return patient
