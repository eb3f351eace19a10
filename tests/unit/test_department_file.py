"""Checking a department file: what it gives, and a line and a reason for every mistake."""

from __future__ import annotations

from datetime import time

from clinic.demo import DEPARTMENT
from clinic.department_file import parse_department_file
from clinic.jalali import TEHRAN
from clinic.models import Keep, KeepPer, Modality

GOOD = """\
hospitals:
  - code: bojnurd-imam-reza
    name_fa: بیمارستان امام رضا
    departments:
      - code: radiology
        name_fa: بخش تصویربرداری
        devices:
          - code: ct-1
            modality: ct
            name_fa: سي تي اسكن
            name_en: CT
            room_fa: اتاق ۱۰۴
            floor: ۰
            slot_minutes: ۱۵
            places_per_slot: 1
            exams: all
            shifts:
              - days: [شنبه, یک‌شنبه, "سه شنبه"]
                hours: [۰۷:۳۰-۱۳:۳۰, 15:00 - 21:00]
              - days: [wed-thu]
                hours: [07:30-12:30]
            kept_back:
              - for: urgent
                places: 2
                per: day
        closed:
          - from: ۱۴۰۵/۰۹/۱۰
            reason_fa: تعمیر
          - from: 1405/09/12 08:00
            to: 1405/09/12 12:00
            device: CT-1
            reason_fa: سرویس دوره‌ای
"""


def test_a_good_file_reads_in_persian_or_latin_digits_and_day_names() -> None:
    hospitals, problems = parse_department_file(GOOD)
    assert problems == []
    (hospital,) = hospitals
    assert (hospital.code, hospital.name_en) == ("bojnurd-imam-reza", "")
    (department,) = hospital.departments
    (ct,) = department.devices
    assert (ct.code, ct.modality, ct.floor, ct.slot_minutes) == ("CT-1", Modality.CT, 0, 15)
    assert ct.name_fa == "سی تی اسکن"  # Arabic Yeh and Kaf become the Persian letters
    assert ct.exams is None  # all of its modality
    by_day = {(s.weekday, s.starts, s.ends) for s in ct.shifts}
    morning, evening = (time(7, 30), time(13, 30)), (time(15), time(21))
    assert by_day == {
        (0, *morning), (0, *evening), (1, *morning), (1, *evening), (3, *morning),
        (3, *evening), (4, time(7, 30), time(12, 30)), (5, time(7, 30), time(12, 30)),
    }  # fmt: skip
    assert [(k.keep, k.per, k.places) for k in ct.kept] == [(Keep.URGENT, KeepPer.DAY, 2)]
    whole, part = department.closed
    assert (whole.device, whole.starts_at.date().isoformat()) == (None, "2026-12-01")
    assert (whole.ends_at.date().isoformat(), whole.ends_at.hour) == ("2026-12-02", 0)
    assert part.device == "CT-1"
    assert (part.starts_at.hour, part.ends_at.hour, part.starts_at.tzinfo) == (8, 12, TEHRAN)


def test_the_demo_department_file_is_good() -> None:
    hospitals, problems = parse_department_file(DEPARTMENT.read_text(encoding="utf-8"))
    assert problems == []
    devices = hospitals[0].departments[0].devices
    assert [d.code for d in devices] == [
        "CT-1", "MRI-1", "XR-1", "XR-2", "US-1", "US-2", "MG-1", "RF-1", "BMD-1",
    ]  # fmt: skip
    assert all(d.shifts and all(s.weekday != 6 for s in d.shifts) for d in devices)  # no Friday


SITE_CODE = "small Latin letters, digits, '-' or '_' (at most 40)"
BAD = """\
hospitals:
  - code: Imam Reza
    name_fa: Imam Reza hospital
    departments:
      - code: radiology
        name_fa: بخش
        colour: blue
        devices:
          - code: CT 1
            modality: PET
            name_fa: سی تی
            name_en: CT
            slot_minutes: 3
            places_per_slot: 1
            exams: [CT-BRAIN, CT-BRAIN, "brain ct"]
            shifts:
              - days: [sat, funday, sat]
                hours: [07:30-13:30, 13:00-14:00, 25:00-26:00, 09:00-08:00]
              - hours: [07:30-12:30]
            kept_back:
              - for: walkin
                places: 1
                per: week
          - code: MR-1
            modality: MR
            name_fa: ام آر آی
            name_en: MRI
            slot_minutes: 30
            places_per_slot: 1
            shifts: []
            kept_back:
              - for: walk_in
                places: 2
                per: slot
          - code: MR-1
            modality: MR
            name_fa: ام آر آی ۲
            name_en: MRI 2
            slot_minutes: 30
            places_per_slot: 1
            exams: all
        closed:
          - from: 1405/13/01
            device: MR-9
          - from: 1405/09/12
            to: 1405/09/11
            reason_fa: تعمیر
"""


def test_every_mistake_is_named_with_its_line() -> None:
    hospitals, problems = parse_department_file(BAD)
    assert hospitals == ()
    assert problems == [
        (2, f"code 'Imam Reza' must be {SITE_CODE}, like radiology"),
        (3, "name_fa must be written in Persian"),
        (7, "unknown field 'colour' in a department"),
        (9, "code 'CT 1' must be Latin letters, digits, '-' or '_' (at most 32), like CT-1"),
        (10, "unknown modality 'PET'; use one of CT, MR, CR, US, MG, RF, BMD"),
        (13, "slot_minutes must be a whole number of minutes between 5 and 240"),
        (15, "exam CT-BRAIN is listed twice"),
        (15, "exams must list exam codes, like CT-BRAIN, or be all"),
        (17, "sat is given twice in this shift"),
        (17, "unknown day 'funday'; use sat, sun, mon, tue, wed, thu, fri or a range, sat-wed"),
        (18, "hours must be written like 07:30-13:30, not '25:00-26:00'"),
        (18, "on sat the shift from 13:00 overlaps the one before"),
        (18, "the shift 09:00-08:00 must end after it starts (on the same day)"),
        (19, "days is required in a shift, like [sat, sun, mon, tue, wed]"),
        (21, "for must be one of walk_in, inpatient, urgent, not 'walkin'"),
        (23, "per must be one of slot, day, not 'week'"),
        (24, "exams is required in a device: a list of exam codes, or all"),
        (32, "more places kept back per slot than the 1 a slot has"),
        (43, "from must be a Jalali date like 1405/10/11 (and a time, 08:00)"),
        (43, "reason_fa is required in a closed range"),
        (44, "there is no device MR-9 in this department"),
        (46, "a closed range must end after it starts"),
    ]


def test_an_empty_or_broken_file_says_so() -> None:
    assert parse_department_file("") == ((), [(1, "the file is empty")])
    assert parse_department_file("hospitals: [")[1][0][1].startswith("this is not valid YAML")
    assert parse_department_file("devices: []\n")[1] == [
        (1, "the file must list its hospitals (hospitals: …)"),
        (1, "unknown field 'devices' in the file"),
    ]


def test_several_hospitals_each_with_its_county_contacts_and_his_name() -> None:
    shirvan = (
        GOOD.split("hospitals:\n", 1)[1]
        .replace("bojnurd-imam-reza", "shirvan")
        .replace("ct-1", "shirvan-ct")
        .replace("device: CT-1", "device: SHIRVAN-CT")
        .replace(
            "    name_fa: بیمارستان امام رضا\n",
            "    name_fa: بیمارستان شیروان\n    county: شیروان\n    his_facility: SHIRVAN-RIS\n",
        )
        .replace(
            "        name_fa: بخش تصویربرداری\n",
            "        name_fa: بخش تصویربرداری\n"
            "        phone: ۰۵۸-۳۶۲۲-۰۰۰۰\n        address_fa: شیروان، خیابان امام\n",
        )
    )
    hospitals, problems = parse_department_file(GOOD + shirvan)
    assert problems == []
    assert [h.code for h in hospitals] == ["bojnurd-imam-reza", "shirvan"]
    second = hospitals[1]
    assert (second.county, second.his_facility) == ("شیروان", "SHIRVAN-RIS")
    (department,) = second.departments
    assert department.detail("address_fa") == "شیروان، خیابان امام"
    assert department.detail("pickup_en") == ""
    assert [d.code for d in department.devices] == ["SHIRVAN-CT"]


def test_a_device_code_names_one_device_of_the_whole_university() -> None:
    twice = GOOD + GOOD.split("hospitals:\n", 1)[1].replace("bojnurd-imam-reza", "shirvan")
    _, problems = parse_department_file(twice)
    assert problems == [(39, "device CT-1 is already on line 8")]
    same = parse_department_file(GOOD + GOOD.split("hospitals:\n", 1)[1])[1]
    assert (33, "hospital bojnurd-imam-reza is already on line 2") in same


def test_a_hospitals_own_orthanc_is_a_web_address_with_the_his_name_beside_it() -> None:
    with_pacs = GOOD.replace(
        "    name_fa: بیمارستان امام رضا\n",
        "    name_fa: بیمارستان امام رضا\n    his_facility: BOJNURD-RIS\n"
        "    orthanc_url: http://10.0.0.5:8042/\n",
    )
    hospitals, problems = parse_department_file(with_pacs)
    assert problems == []
    assert hospitals[0].orthanc_url == "http://10.0.0.5:8042"
    no_name = with_pacs.replace("    his_facility: BOJNURD-RIS\n", "")
    assert parse_department_file(no_name)[1] == [
        (4, "a hospital with its own orthanc_url needs its his_facility (its studies are "
            "matched to its site by it)")
    ]  # fmt: skip
    not_web = with_pacs.replace("http://10.0.0.5:8042/", "10.0.0.5")
    assert parse_department_file(not_web)[1] == [
        (5, "orthanc_url must be a web address, like http://10.0.0.5:8042")
    ]
