"""Outbox delivery (chat, SMS) and the hospital's events (HIS webhook, HL7 over MLLP, Orthanc)."""
