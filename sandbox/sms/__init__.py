"""A fake of the Kavenegar and SMS.ir SMS gateways on loopback, with faults and inboxes."""

from .server import SmsSandbox
from .world import GATEWAYS, Faults, Message, RequestRecord

__all__ = ["GATEWAYS", "Faults", "Message", "RequestRecord", "SmsSandbox"]
