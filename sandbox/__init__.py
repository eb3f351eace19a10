"""Fakes of the outside world on loopback: the Bot API and the SMS gateways' wire formats."""
