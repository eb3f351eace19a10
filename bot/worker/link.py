"""/link CODE: a staff member or health worker links this chat account with a one-time code."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import explain
from clinic.errors import N_, ClinicError
from clinic.linking import redeem_link_code
from clinic.models import ActorKind

ASK_CODE = N_("Please send the code you were given like this: /link 12345678")
LINKED_STAFF = N_("This account is now linked as staff. Send /staff to open the staff menu.")
LINKED_WORKER = N_(
    "This account is now linked as a health worker. Send /worker to open the health worker menu."
)


async def link(update: Update, context: BotContext) -> None:
    """Redeem a one-time code (Persian digits fine); a wrong one gets the clinic's message."""
    assert update.message is not None and update.effective_user is not None
    if not context.args:
        await update.message.reply_text(context._(ASK_CODE))
        return
    try:
        async with context.services.uow() as uow:
            actor = await redeem_link_code(
                uow, context.args[0][:32], context.services.platform, update.effective_user.id
            )
            await uow.commit()
    except ClinicError as error:
        await update.message.reply_text(explain(error, context))
        return
    linked = LINKED_WORKER if actor.kind is ActorKind.HEALTH_WORKER else LINKED_STAFF
    await update.message.reply_text(context._(linked))
