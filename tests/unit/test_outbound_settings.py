"""RADYAR_RIS_* and RADYAR_OUTBOUND_*: the RIS is told only when its address is set, of the
kinds of change chosen, and a mistyped value is refused with a message saying what fits."""

from __future__ import annotations

import pytest

from radyar.outbound_run import adapters
from radyar.settings import Settings, SettingsError


def test_nothing_is_told_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.outbound.ris is None
    assert settings.outbound.fhir.base_url is None
    assert not settings.outbound.worklist.enabled
    assert settings.policy.outbound == ()
    assert adapters(settings) == []


def test_the_ris_address_turns_siu_on_for_every_kind_of_change() -> None:
    settings = Settings.from_env({"RADYAR_RIS_MLLP_HOST": "10.0.5.20"})
    ris = settings.outbound.ris
    assert ris is not None and (ris.host, ris.port, ris.adapter) == ("10.0.5.20", 2575, "hl7_siu")
    assert settings.policy.outbound == ("hl7_siu",)
    assert dict(settings.policy.outbound_events)["hl7_siu"] == (
        "booked", "moved", "admitted", "cancelled", "no_show",
    )  # fmt: skip
    (adapter,) = adapters(settings)
    assert adapter.name == "hl7_siu"


def test_orders_instead_and_only_some_changes() -> None:
    settings = Settings.from_env(
        {
            "RADYAR_RIS_MLLP_HOST": "ris.hospital.local",
            "RADYAR_RIS_MLLP_PORT": "6661",
            "RADYAR_RIS_MESSAGES": "ORM",
            "RADYAR_RIS_EVENTS": "booked, cancelled,booked",
            "RADYAR_RIS_ACK_SECONDS": "10",
            "RADYAR_OUTBOUND_GIVE_UP_HOURS": "48",
        }
    )
    assert settings.policy.outbound == ("hl7_orm",)
    assert settings.policy.outbound_events == (("hl7_orm", ("booked", "cancelled")),)
    assert settings.outbound.give_up_hours == 48
    ris = settings.outbound.ris
    assert ris is not None and (ris.port, ris.ack_seconds) == (6661, 10)


def test_a_fhir_server_is_told_beside_the_ris() -> None:
    settings = Settings.from_env(
        {
            "RADYAR_RIS_MLLP_HOST": "10.0.5.20",
            "RADYAR_FHIR_URL": "https://fhir.hospital.local/r4/",
            "RADYAR_FHIR_TOKEN": "s3cret-bearer",
            "RADYAR_FHIR_EVENTS": "booked,moved,cancelled",
        }
    )
    assert settings.policy.outbound == ("hl7_siu", "fhir")
    assert dict(settings.policy.outbound_events)["fhir"] == ("booked", "moved", "cancelled")
    assert [a.name for a in adapters(settings)] == ["hl7_siu", "fhir"]
    assert "s3cret-bearer" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"RADYAR_RIS_MESSAGES": "adt"}, "RADYAR_RIS_MESSAGES must be siu or orm"),
        ({"RADYAR_RIS_EVENTS": "booked,arrived"}, "RADYAR_RIS_EVENTS must be some of"),
        ({"RADYAR_RIS_MLLP_PORT": "0"}, "RADYAR_RIS_MLLP_PORT must be between 1 and 65535"),
        ({"RADYAR_RIS_SENDING_FACILITY": "بیمارستان"}, "must be plain ASCII"),
        ({"RADYAR_OUTBOUND_GIVE_UP_HOURS": "x"}, "must be a whole number"),
        ({"RADYAR_FHIR_EVENTS": "everything"}, "RADYAR_FHIR_EVENTS must be some of"),
    ],
)
def test_a_mistyped_value_is_refused_with_what_fits(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_env({"RADYAR_RIS_MLLP_HOST": "10.0.5.20", **env})


def test_the_worklist_is_read_with_the_other_adapters() -> None:
    settings = Settings.from_env({"RADYAR_MWL_PORT": "11112", "RADYAR_MWL_AE_TITLE": "RADYAR_MWL"})
    worklist = settings.outbound.worklist
    assert worklist.enabled and (worklist.port, worklist.ae_title) == (11112, "RADYAR_MWL")
    assert settings.policy.outbound == ()  # it serves what is booked: no events to write
