"""A refused hospital message is kept masked: staff can still see what was wrong with its
structure, and nobody can read the patient or the report in it."""

from __future__ import annotations

import json
import random
import re

import pytest

from clinic.message_mask import detect, mask, mask_hl7, mask_json, mask_text
from clinic.message_shape import describe

NATIONAL = "0499370899"
MOBILE = "09121234567"
PERSONAL = (
    NATIONAL, "۰۴۹۹۳۷۰۸۹۹", MOBILE, "19820321", "رضایی", "مریم", "Rezaei", "Maryam", "Azadi",
    "Hassan", "02155556666", "خونریزی", "malignancy", "haemorrhage", "headache", "diabetic",
    "POL-778899", "penicillin", "secret",
)  # fmt: skip

ORU = "\r".join(
    [
        "MSH|^~\\&|RIS|IMAM_HOSP_RAD|RADYAR|IMAM_HOSP|202611301230||ORU^R01^ORU_R01|RIS0042|P|"
        "2.5.1|||AL|NE||UNICODE UTF-8",
        "EVN|R01|202611301230",
        f"PID|1||884120^^^IMAM_HOSP^MR~{NATIONAL}^^^IRN^NNIRN||رضایی^مریم^^^خانم||19820321|F"
        f'|||Azadi St^^Tehran^^^IRN||{MOBILE}~""',
        "PD1|||IMAM_HOSP^^1234",
        "NK1|1|Rezaei^Hassan|FTH|Azadi St^^Tehran|02155556666",
        "PV1|1|O|RAD^CT1^^IMAM_HOSP||||1234^Karimi^Reza^^^Dr|5678^Ahmadi^Sara|||||||||||V55012",
        "IN1|1|PLAN7|INS1|Iran Insurance|||||||||||||||||||||||||||||||||POL-778899",
        "DG1|1||R51^headache^I10",
        "AL1|1|DA|penicillin",
        "ORC|RE|P-55012^HIS|F-55012^RIS||CM|||||||1234^Karimi^Reza||02155556666",
        "OBR|1|P-55012^HIS|F-55012^RIS|CTHEAD^CT head^L|||202611300915|||||diabetic|headache"
        "|||1234^Karimi^Reza||ACC-9001|RP-55012|SPS-55012||202611301225||CT|F||||||headache",
        "OBX|1|TX|18782-3^Radiology Study observation^LN|1|suspicious for malignancy||||||F",
        "OBX|2|TX|19005-8^Radiology Impression^LN|2|یافته‌ای به نفع خونریزی\\.br\\دیده نشد||||||F",
        "OBX|3|TX|19005-8^Radiology Impression^LN|3|||||||F",
        "NTE|1|L|patient is diabetic, no haemorrhage",
        "ZDS|1.2.840.1^RADYAR^Application^DICOM|secret",
    ]
)


def fields(segment: str) -> list[str]:
    return segment.split("|")


def shape(value: str) -> str:
    """The separators of a value, without its content."""
    return re.sub(r"[^|^~&]", "", value)


def test_hl7_keeps_structure_and_staff_fields_and_drops_the_patient_and_the_report() -> None:
    masked = mask_hl7(ORU)
    for secret in PERSONAL:
        assert secret not in masked, secret
    original, kept = ORU.split("\r"), masked.split("\r")
    assert [s[:3] for s in kept] == [s[:3] for s in original]
    for before, after in zip(original, kept, strict=True):
        assert len(fields(after)) == len(fields(before))  # field counts
        assert shape(after) == shape(before)  # and repetitions and components
    assert kept[0] == original[0] and kept[1] == original[1]  # MSH and EVN whole
    assert kept[5] == original[5]  # PV1: its doctors are staff
    pid = fields(kept[2])
    assert pid[1] == "1" and pid[2] == "" and pid[4] == ""  # set id, and the empty fields
    assert pid[3] == "***^^^***^***~***^^^***^***"
    assert pid[13] == '***~""'  # the HL7 null stays one
    orc, obr = fields(kept[9]), fields(kept[10])
    assert orc[2:4] == ["P-55012^HIS", "F-55012^RIS"] and orc[12] == "1234^Karimi^Reza"
    assert obr[2:5] == ["P-55012^HIS", "F-55012^RIS", "CTHEAD^CT head^L"]
    assert obr[18:20] == ["ACC-9001", "RP-55012"] and obr[25] == "F"
    assert (obr[12], obr[13], obr[31]) == ("***", "***", "***")
    obx = [fields(s) for s in kept[11:14]]
    assert [o[3].split("^")[0] for o in obx] == ["18782-3", "19005-8", "19005-8"]
    assert [o[5] for o in obx] == ["***", "***", ""]  # the third report line was empty
    assert fields(kept[14])[1:3] == ["1", "L"] and fields(kept[14])[3] == "***"
    assert kept[7] == "DG1|1||***^***^***" and kept[15] == "ZDS|***^***^***^***|***"


def test_hl7_line_endings_noise_and_broken_lines_are_tolerated() -> None:
    raw = (
        "\ufeff\x0bMSH|^~\\&|RIS|H|RADYAR|H|20261130||ORU^R01|C-1|P|2.5.1\r\n"
        f"PID|1||{NATIONAL}||Rezaei^Maryam\n"
        "OBX|1|TX|X^Y||first line\n"
        "suspicious for malignancy, 09121234567\r"
        "PV1"
    )
    masked = mask_hl7(raw)
    assert masked.startswith("\ufeff\x0bMSH|^~\\&|RIS|H|RADYAR|H|20261130||ORU^R01|C-1|")
    assert masked.count("\r\n") == 1 and masked.count("\n") == 3 and masked.endswith("\rPV1")
    assert "xxxxxxxxxx xxx xxxxxxxxxx, ###########" in masked  # the broken line: free text
    for secret in PERSONAL:
        assert secret not in masked


def test_hl7_without_msh_and_with_its_own_separators() -> None:
    assert mask("PID|||0012345679||رضایی^علی") == "PID|||***||***^***"
    custom = "MSH#:*/%#A#B#C#D#20261130##ORU:R01#9#P#2.5.1\rPID###X:1*Y:2##N/F/"
    # "*" separates repetitions here, so the mask is XXX: the structure still shows
    assert mask(custom).split("\r")[1] == "PID###XXX:XXX*XXX:XXX##XXX"
    odd = "MSH|ab|RIS\rPID|1||Rezaei^Ali~Reza"  # unusable MSH-2: the defaults
    assert mask(odd).split("\r")[1] == "PID|1||***^***~***"


def test_json_masks_people_and_clinical_text_and_keeps_what_staff_need() -> None:
    body = {
        "accession_number": "2026113000123",
        "status": "final",
        "time": "2026-11-30T12:00:00+03:30",
        "site": "BOJNURD-RIS",
        "modality": "CT",
        "study_date": "2026-11-30",
        "national_code": NATIONAL,
        "patient": {"first": "مریم", "last": "رضایی", "birth_date": "1982-03-21"},
        "PatientID": "۰۴۹۹۳۷۰۸۹۹",
        "phone_number": 2155556666,
        "report": {"impression": "suspicious for malignancy", "findings": ["haemorrhage"]},
        "note": "",
        "contact": "call 0912 123 4567",
        "extra": [{"comment": "headache"}, "ok"],
        "control_id": "MSG-1",
    }
    masked = json.loads(mask_json(json.dumps(body, ensure_ascii=False)))
    assert list(masked) == list(body)  # every key kept, in order
    for key in ("accession_number", "status", "time", "site", "modality", "study_date"):
        assert masked[key] == body[key]
    assert masked["control_id"] == "MSG-1"
    assert masked["national_code"] == masked["PatientID"] == masked["phone_number"] == "***"
    assert masked["patient"] == {"first": "***", "last": "***", "birth_date": "***"}
    assert masked["report"] == {"impression": "***", "findings": ["***"]}
    assert masked["note"] == "" and masked["contact"] == "***"
    assert masked["extra"] == [{"comment": "***"}, "ok"]
    assert not any(secret in json.dumps(masked, ensure_ascii=False) for secret in PERSONAL)


def test_json_in_other_shapes_and_json_that_does_not_parse() -> None:
    assert json.loads(mask('[{"name": "Ali"}, 1]')) == [{"name": "***"}, 1]
    assert json.loads(mask('{"' + NATIONAL + '": {"Status": "F"}}')) == {"***": {"Status": "F"}}
    # The PACS's own record of a study without an accession number keeps all it says.
    pacs = {"orthanc_study": "6b9e19d9-62094390-5f9ddb01-4a191ae7-9766b715",
            "study_date": "20261130", "modality": "CT"}  # fmt: skip
    assert json.loads(mask(json.dumps(pacs), "json")) == pacs
    broken = '{"accession_number": "A1", "national_code": "0499370899", "name": "Ali'
    assert mask(broken) == '{"xxxxxxxxx_xxxxxx": "x1", "xxxxxxxx_xxxx": "##########", "xxxx": "xxx'
    assert mask("[" * 100_000) == "[" * 100_000  # too deep to parse: free text, no error


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (f"{MOBILE}: کجای بیمارستان باید برم", "###########: **** ********* **** ***"),
        ("۰۹۱۲۱۲۳۴۵۶۷: ٠٤٩٩٣٧٠٨٩٩, 1", "###########: ##########, 1"),  # Persian, Arabic digits
        ("0912 123 4567 at 10:30, room 12", "#### ### #### xx 10:30, xxxx 12"),
        ("کد ۱۴۰۳/۰۷/۱۲", "** ####/##/##"),
        ("Ali Rezaei", "xxx xxxxxx"),  # a name in Latin letters is a name too
        ("سلامٌ", "*****"),  # a vowel mark goes with its word
    ],
)
def test_free_text_keeps_only_its_shape(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked
    assert mask(raw, "text") == masked


def test_detect_tells_hl7_json_and_text_apart() -> None:
    assert detect(ORU) == detect("\ufeff\r\nMSH|^~\\&|X") == detect("PID|1||x") == "hl7"
    assert detect("POST /hl7 HTTP/1.1\r\nMSH|^~\\&|RIS") == "hl7"  # an MSH further on
    assert detect('  {"a": 1}') == detect("[1]") == "json"
    assert detect(f"{MOBILE}: سلام") == detect("garbage\rmore garbage") == detect("") == "text"


def test_masking_twice_changes_nothing_so_a_repeated_message_is_recognised() -> None:
    for body in (ORU, '{"name": "Ali", "status": "final"}', f"{MOBILE}: سلام", "{oops"):
        assert mask(mask(body)) == mask(body)


def test_whatever_arrives_is_masked_without_an_error() -> None:
    rng = random.Random(1405)
    alphabet = '|^~\\&\r\n{}[]":,MSHPIDOBX0123456789۰۱۲٠١٢ abcرضایی\x00\x0b\x1c\ufeff'
    for _ in range(300):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200)))
        if rng.random() < 0.3:
            body = "MSH" + body
        for kind in (None, "hl7", "json", "text"):
            masked = mask(body, kind)
            assert isinstance(masked, str)
            assert "رضایی" not in masked
        assert isinstance(describe(mask(body)).length, int)


def test_describe_shows_structure_never_content() -> None:
    hl7 = describe(mask(ORU))
    assert (hl7.kind, hl7.message_type, hl7.control_id) == ("hl7", "ORU^R01^ORU_R01", "RIS0042")
    assert hl7.segment_list() == (
        "MSH(18) EVN(2) PID(13) PD1(3) NK1(5) PV1(19) IN1(37) DG1(3) AL1(3) ORC(14) OBR(31) "
        "OBX(11)×3 NTE(3) ZDS(2)"
    )
    broken = describe("MSH|^~\\&|A|B|C|D|2026||ORU^R01|x y\nnot a segment\nOBX|1")
    assert (broken.control_id, broken.other_lines) == ("?", 1)  # an id we would not show
    assert broken.segment_list() == "MSH(10) OBX(1)"
    assert describe(mask('{"accession_number": "A1", "name": "x"}')).keys == (
        "accession_number",
        "name",
    )
    assert describe("[1, 2, 3]").items == 3
    assert (describe("{oops").kind, describe("{oops").length) == ("text", 5)
    assert describe(mask(f"{MOBILE}: سلام")).length == len(f"{MOBILE}: سلام")


def test_what_runs_on_past_the_last_msh_field_is_masked() -> None:
    msh = "MSH|^~\\&|RIS|H|RADYAR|H|20261130||ORU^R01|C-1|P|2.5.1" + "|" * 13
    masked = mask(msh + f"|{NATIONAL}^Rezaei|x")
    assert masked == msh + "|***^***|***"
    assert len(masked.split("|")) == len((msh + "|a|b").split("|"))
