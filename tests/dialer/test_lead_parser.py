import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialer.errors import ImportFileError
from dialer.leads import LeadDraft, ParsedFile, RejectedRow, parse_leads
from dialer.models import ConsentMethod, ConsentType

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLE = Path(__file__).resolve().parents[2] / "leads.example.csv"
ATOMIC = FIXTURES / "atomic_crm_test_contacts.csv"
EXPORT_SAMPLE = FIXTURES / "atomic_crm_contacts_export_sample.csv"


def parse_file(path: Path, **kwargs) -> ParsedFile:
    return parse_leads(path.read_bytes(), path=path.name, **kwargs)


def parse_text(text: str, **kwargs) -> ParsedFile:
    return parse_leads(text.encode(), path="t.csv", **kwargs)


def by_row(parsed: ParsedFile) -> dict[int, LeadDraft | RejectedRow]:
    return {**{d.row: d for d in parsed.leads}, **{r.row: r for r in parsed.rejected}}


def accounted_rows(parsed: ParsedFile) -> list[int]:
    return sorted(
        [d.row for d in parsed.leads] + [r.row for r in parsed.rejected] + [f.row for f in parsed.folded]
    )


@pytest.fixture(scope="module")
def atomic() -> ParsedFile:
    return parse_file(ATOMIC)


# --- the shared third-party files -------------------------------------------------------------------------


def test_atomic_crm_counts_and_every_row_accounted_for(atomic):
    parsed = atomic
    # 500 contacts on lines 2..501, no multi-line cells, every row has at least one phone cell.
    assert parsed.data_rows == 500 and parsed.blank_rows == ()
    assert (len(parsed.leads), len(parsed.rejected), len(parsed.folded)) == (364, 136, 0)
    assert accounted_rows(parsed) == list(range(2, 502))
    # 160 invalid secondary phone cells, 57 leads whose only valid numbers the gate cannot dial,
    # 19 undialable higher-priority numbers passed over for a dialable one.
    assert len(parsed.warnings) == 236
    assert sum("not a valid number" in w.reason for w in parsed.warnings) == 160
    assert sum("the gate will not dial it" in w.reason for w in parsed.warnings) == 57
    assert sum("is dialed instead" in w.reason for w in parsed.warnings) == 19
    assert {r.column for r in parsed.rejected} == {"phone_work", "phone_home", "phone_other"}
    assert all(r.reason.startswith("not a valid number (area code ") for r in parsed.rejected)


def test_atomic_crm_hand_checked_rows(atomic):
    rows = by_row(atomic)
    # line 2: only phone_home, area code 955 does not exist.
    assert rows[2] == RejectedRow(
        2, "phone_home", "1-955-371-0847 x371", "not a valid number (area code 955 is not valid)"
    )
    # line 3: work (415) valid, home (980) valid -> work dialed, home kept as an alternate.
    lead = rows[3]
    assert isinstance(lead, LeadDraft)
    assert (lead.phone_e164, lead.phone_column, lead.phone_raw) == (
        "+14152933313",
        "phone_work",
        "(415) 293-3313",
    )
    assert lead.fields["alt_phones"] == ["+19804947423"]
    assert (lead.first_name, lead.last_name, lead.company, lead.email) == (
        "Leah",
        "Boehm",
        "Gottlieb and Sons",
        "Leah93@yahoo.com",
    )
    assert lead.fields["company_name"] == "Gottlieb and Sons" and lead.fields["status"] == "warm"
    assert "company" not in lead.fields and "email_work" not in lead.fields
    # line 5: home 597 and other 441 both invalid -> rejected on the first one in dial priority.
    assert rows[5].column == "phone_home" and "area code 597" in rows[5].reason


def test_atomic_crm_leading_zero_extensions_are_kept(atomic):
    parsed = atomic
    rows = by_row(parsed)
    # line 45: the only number (area code 372) is invalid: the report shows the cell exactly.
    assert rows[45] == RejectedRow(
        45, "phone_other", "372.613.0768 x042", "not a valid number (area code 372 is not valid)"
    )
    # line 117: (212) 691-2539 x065 is dialed; the extension keeps its zero and is not in the E.164.
    lead = rows[117]
    assert (lead.phone_e164, lead.phone_extension) == ("+12126912539", "065")
    # line 14: an alternate's extension keeps its zero too.
    assert rows[14].fields["alt_phone_extensions"] == {"+18647878472": "0765"}
    assert sum(1 for d in parsed.leads if d.phone_extension and d.phone_extension.startswith("0")) == 20


N11_CELLS = [
    # (line, column with the N11 number, outcome, column named, area code in the reason)
    (20, "phone_home", "warning", "phone_home", "811"),
    (83, "phone_home", "rejected", "phone_work", "827"),
    (90, "phone_other", "warning", "phone_other", "511"),
    (99, "phone_home", "rejected", "phone_home", "211"),
    (161, "phone_other", "rejected", "phone_home", "655"),
    (192, "phone_other", "warning", "phone_other", "511"),
    (230, "phone_other", "rejected", "phone_other", "211"),
    (276, "phone_other", "warning", "phone_other", "811"),
    (326, "phone_home", "rejected", "phone_home", "311"),
    (414, "phone_other", "rejected", "phone_other", "411"),
    (416, "phone_home", "rejected", "phone_home", "411"),
]


def test_atomic_crm_n11_area_codes_are_warnings_or_rejections(atomic):
    parsed = atomic
    rows = by_row(parsed)
    for line, _n11_column, outcome, column, area in N11_CELLS:
        reason = f"not a valid number (area code {area} is not valid)"
        if outcome == "rejected":
            assert isinstance(rows[line], RejectedRow), line
            assert (rows[line].column, rows[line].reason) == (column, reason), line
        else:
            assert isinstance(rows[line], LeadDraft), line
            warned = [(w.column, w.reason) for w in parsed.warnings if w.row == line]
            assert (column, reason) in warned, line
            assert {
                "column": column,
                "value": rows[line].fields["import_warnings"][0]["value"],
                "reason": reason,
            } in (rows[line].fields["import_warnings"])
    n11_rejections = [
        r for r in parsed.rejected if r.reason[-17:-14] in {"211", "311", "411", "511", "811", "911"}
    ]
    assert [r.row for r in n11_rejections] == [99, 230, 326, 414, 416]


def test_export_sample_keeps_tags_and_handles_the_trailing_empty_phone():
    parsed = parse_file(EXPORT_SAMPLE)
    assert (len(parsed.leads), len(parsed.rejected), len(parsed.folded)) == (2, 0, 0)
    john, jane = parsed.leads
    assert john.fields["tags"] == "influencer, developer"
    assert jane.fields["tags"] == "UI, design"
    assert john.email == "john@doe.example"
    assert john.fields["alt_emails"] == ["john.doe@gmail.com", "jdoe@caramail.com"]
    # John's phone_other (446) is invalid: a warning, John still imported on his work number.
    assert [(w.row, w.column, w.value) for w in parsed.warnings] == [(2, "phone_other", "(446) 758-2122")]
    # Jane's last cell (phone_other) is empty and the file has no final newline.
    assert (jane.row, jane.phone_e164, jane.fields["alt_phones"]) == (3, "+16599802020", ["+17406473802"])
    assert jane.email == "jane@doe.example" and "alt_emails" not in jane.fields


# --- leads.example.csv ---------------------------------------------------------------------------------


def test_example_file_counts():
    parsed = parse_file(EXAMPLE)
    assert (parsed.data_rows, len(parsed.leads), len(parsed.rejected), len(parsed.folded)) == (25, 22, 2, 1)
    assert accounted_rows(parsed) == list(range(2, 27))


def test_example_duplicate_in_another_format_is_folded_into_the_first_row():
    parsed = parse_file(EXAMPLE)
    (fold,) = parsed.folded
    assert (fold.row, fold.duplicate_of_row, fold.phone_e164) == (15, 2, "+13125550101")
    assert fold.reason == "same number as row 2"
    assert [d.row for d in parsed.leads if d.phone_e164 == "+13125550101"] == [2]


def test_example_extension_is_kept_apart_from_the_e164():
    rows = by_row(parse_file(EXAMPLE))
    james = rows[13]
    assert (james.phone_e164, james.phone_extension, james.phone_raw) == (
        "+16125550112",
        "204",
        "(612) 555-0112 x204",
    )


def test_example_911_and_no_phone_rows_are_rejected_with_reasons():
    rows = by_row(parse_file(EXAMPLE))
    assert rows[25] == RejectedRow(
        25, "phone", "911-555-0124", "not a valid number (area code 911 is not valid)"
    )
    assert rows[26] == RejectedRow(26, "phone", "", "no phone number")


def test_example_consents_from_columns():
    rows = by_row(parse_file(EXAMPLE))
    ava = rows[2].consents[0]
    assert ava.consent_type is ConsentType.PEWC and ava.method is ConsentMethod.CSV_COLUMNS
    assert (ava.phone_e164, ava.seller_name, ava.covers_artificial_voice) == (
        "+13125550101",
        "Northwind Analytics, Inc.",
        True,
    )
    assert ava.signed_at == datetime(2026, 10, 2, 15, 4, tzinfo=UTC)
    assert ava.evidence == "https://northwind.example/optin/a1f3"
    assert rows[16].consents == ()  # consent_type none
    assert rows[17].consents[0].consent_type is ConsentType.ORAL
    assert rows[19].consents[0].covers_artificial_voice is False
    assert rows[20].consents[0].revoked_at == datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    assert rows[2].state == "IL" and rows[8].zip == "02108" and rows[2].fields == {"industry": "logistics"}
    consents = [c for d in parse_file(EXAMPLE).leads for c in d.consents]
    assert len(consents) == 21


def test_map_overrides_auto_detection():
    parsed = parse_file(EXAMPLE, mappings={"industry": "title", "email": "ignore"})
    ava = by_row(parsed)[2]
    assert ava.title == "logistics" and ava.fields["title"] == "VP Operations"
    assert ava.email is None and "email" not in ava.fields
    assert parsed.mapping.as_dict()["email"] == "ignore"


# --- file-level errors -----------------------------------------------------------------------------------


def test_latin1_file_names_line_and_byte_offset():
    with pytest.raises(ImportFileError) as exc:
        parse_file(FIXTURES / "leads_latin1.csv")
    assert exc.value.row == 3
    assert str(exc.value).startswith(
        "leads_latin1.csv, row 3: the file is not UTF-8: byte 0xe9 at byte offset 58"
    )
    assert "on line 3" in str(exc.value)


def test_bad_byte_after_a_bom_reports_its_offset_in_the_file():
    with pytest.raises(ImportFileError, match="byte offset 19 on line 2"):
        parse_leads(b"\xef\xbb\xbfphone,name\r\n555,\xff\n", path="f")


def test_utf16_is_named():
    with pytest.raises(ImportFileError, match="UTF-16"):
        parse_leads("phone\n3125550101\n".encode("utf-16"), path="f")


@pytest.mark.parametrize("data", [(FIXTURES / "empty.csv").read_bytes(), b" \r\n\t\n", b"\xef\xbb\xbf"])
def test_empty_file(data):
    with pytest.raises(ImportFileError, match="the file is empty"):
        parse_leads(data, path="empty.csv")


def test_header_only():
    with pytest.raises(ImportFileError, match="no data rows"):
        parse_file(FIXTURES / "header_only.csv")


def test_header_and_blank_rows_only_has_no_data_rows():
    with pytest.raises(ImportFileError, match="no data rows"):
        parse_text("phone,name\n,\n\n,\n")


def test_no_phone_column_then_map_fixes_it():
    with pytest.raises(ImportFileError, match=r"no phone column found; headers are .*'Contact Number'"):
        parse_file(FIXTURES / "no_phone_column.csv")
    parsed = parse_file(FIXTURES / "no_phone_column.csv", mappings={"Contact Number": "phone"})
    assert [d.phone_e164 for d in parsed.leads] == ["+13125550101", "+15125550102"]


def test_bad_map_column_and_field():
    path = FIXTURES / "no_phone_column.csv"
    with pytest.raises(ImportFileError, match="not in the file; the headers are: 'first_name'"):
        parse_file(path, mappings={"Contact Nmber": "phone"})
    with pytest.raises(ImportFileError, match="'telefono' is not a field; valid fields are: phone, mobile"):
        parse_file(path, mappings={"Contact Number": "telefono"})


def test_unclosed_quote_at_end_of_file():
    with pytest.raises(ImportFileError, match="not closed properly") as exc:
        parse_text('phone,notes\n3125550101,ok\n5125550102,"runs on\n2065550103,and on\n')
    assert exc.value.row == 3


def test_runaway_quote_in_the_middle_refuses_the_file_instead_of_swallowing_rows():
    text = 'phone,notes\n3125550101,"oops\n5125550102,second\n2065550103,"third"\n2125550104,fourth\n'
    with pytest.raises(ImportFileError, match="runs to line 4") as exc:
        parse_text(text)
    assert exc.value.row == 2


def test_sloppy_quotes_on_one_line_are_tolerated():
    parsed = parse_text('phone,notes,size\n3125550101,"ok" ,12" screen\n')
    assert parsed.leads[0].fields == {"notes": "ok", "size": '12" screen'}


def test_giant_cell_is_a_file_error_with_its_row():
    with pytest.raises(ImportFileError, match="malformed CSV: field larger than field limit") as exc:
        parse_text("phone,notes\n3125550101,ok\n5125550102," + "x" * 200_000 + "\n")
    assert exc.value.row == 3


# --- formats ---------------------------------------------------------------------------------------------


def test_semicolon_file():
    parsed = parse_file(FIXTURES / "semicolon.csv")
    assert parsed.delimiter == ";"
    ava, grace, noah = parsed.leads
    assert ava.company == "Brightlane Logistics, Inc." and ava.state == "IL" and ava.zip == "60601"
    assert (grace.phone_e164, grace.phone_extension, grace.state, grace.zip) == (
        "+16175550107",
        "042",
        "MA",
        "02108",
    )
    assert (noah.email, noah.state, noah.zip) == (None, None, "80202")
    assert [(w.row, w.column, w.value) for w in parsed.warnings] == [
        (3, "Zip Code", "2108"),
        (4, "E-mail", "noah@"),
        (4, "State", "Ontario"),
    ]
    assert noah.fields["import_warnings"][1] == {
        "column": "State",
        "value": "Ontario",
        "reason": parsed.warnings[2].reason,
    }


def test_tab_delimited():
    parsed = parse_text("Name\tPhone\tCompany\nAva Thompson\t312-555-0101\tAcme, Inc.\n")
    assert parsed.delimiter == "\t"
    assert (parsed.leads[0].first_name, parsed.leads[0].company) == ("Ava", "Acme, Inc.")


def test_bom_file_and_full_name_split():
    parsed = parse_file(FIXTURES / "bom.csv")
    assert parsed.mapping.as_dict() == {"Name": "full_name", "Phone": "phone", "Title": "title"}
    zoe, renee = parsed.leads
    assert (zoe.first_name, zoe.last_name, zoe.title) == ("Zoë", "Çelik", "Directrice")
    assert (renee.first_name, renee.last_name) == ("Renée", None)


def test_multiline_cells_keep_physical_line_numbers():
    text = (
        "phone,notes\r\n"
        '3125550101,"line one\r\nline two\r\nline three"\r\n'
        "911-555-0000,x\r\n"
        "\r\n"
        "5125550102,after a blank line\r\n"
        ",\r\n"
    )
    parsed = parse_text(text)
    assert [d.row for d in parsed.leads] == [2, 7]
    assert parsed.leads[0].fields["notes"] == "line one\r\nline two\r\nline three"
    assert [r.row for r in parsed.rejected] == [5]
    assert parsed.blank_rows == (8,) and parsed.data_rows == 3


def test_more_cells_than_header_rejects_the_row_fewer_cells_are_empty():
    parsed = parse_text("phone,name,company\n3125550101,Ava,Acme,extra,more\n5125550102,Marcus\n")
    assert parsed.rejected == (
        RejectedRow(2, None, "extra,more", "2 more cells than the header has columns (3)"),
    )
    (marcus,) = parsed.leads
    assert (marcus.row, marcus.first_name, marcus.company) == (3, "Marcus", None)


def test_duplicate_headers_in_a_file():
    with pytest.raises(ImportFileError, match="duplicate column names: 'phone' \\(2 times\\)"):
        parse_text("phone,name,phone\n1,2,3\n")


# --- values ----------------------------------------------------------------------------------------------


def consent_file(*rows: str) -> ParsedFile:
    header = "phone,consent_type,consent_at,consent_seller,consent_artificial_voice,consent_evidence\n"
    return parse_text(header + "".join(f"{r}\n" for r in rows))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PEWC", ConsentType.PEWC),
        ("written", ConsentType.PEWC),
        ("Express Written", ConsentType.PEWC),
        ("prior_express_written", ConsentType.PEWC),
        ("verbal", ConsentType.ORAL),
        ("Oral", ConsentType.ORAL),
        ("EBR", ConsentType.EBR),
    ],
)
def test_consent_type_values(value, expected):
    (lead,) = consent_file(f"3125550101,{value},2026-10-02T15:04:00-05:00,Northwind,y,url").leads
    (consent,) = lead.consents
    assert consent.consent_type is expected
    assert consent.signed_at == datetime(2026, 10, 2, 20, 4, tzinfo=UTC)
    assert consent.covers_artificial_voice is True


@pytest.mark.parametrize("value", ["none", "No", "false", ""])
def test_consent_type_none_creates_no_consent_and_warns_about_unused_cells(value):
    parsed = consent_file(f"3125550101,{value},2026-10-02,Northwind,,")
    assert parsed.leads[0].consents == ()
    assert [(w.column, w.value) for w in parsed.warnings] == [
        ("consent_at", "2026-10-02"),
        ("consent_seller", "Northwind"),
    ]


def test_unknown_consent_type_rejects_the_row_listing_allowed_values():
    (rejected,) = consent_file("3125550101,maybe,,,,").rejected
    assert (rejected.column, rejected.value) == ("consent_type", "maybe")
    assert "pewc, written, express_written, prior_express_written, oral, verbal, ebr, none" in rejected.reason


def test_consent_dates():
    parsed = consent_file(
        "3125550101,pewc,2026-10-02 15:04,S,yes,e",
        "5125550102,pewc,10/02/2026 3:04 PM CDT,S,no,e",
        "2065550103,pewc,next tuesday-ish,S,yes,e",
        "2125550104,pewc,October,S,yes,e",
        "3055550105,pewc,,S,,e",
    )
    first, second, fifth = parsed.leads
    assert first.consents[0].signed_at == datetime(2026, 10, 2, 15, 4, tzinfo=UTC)
    assert [(w.row, w.reason) for w in parsed.warnings] == [(2, "no UTC offset; taken as UTC")]
    assert second.consents[0].signed_at == datetime(2026, 10, 2, 20, 4, tzinfo=UTC)
    assert second.consents[0].covers_artificial_voice is False
    assert fifth.consents[0].signed_at is None and fifth.consents[0].covers_artificial_voice is False
    assert [(r.row, r.column) for r in parsed.rejected] == [(4, "consent_at"), (5, "consent_at")]
    assert "ISO-8601" in parsed.rejected[0].reason


def test_artificial_voice_must_be_yes_or_no():
    (rejected,) = consent_file("3125550101,pewc,,S,perhaps,e").rejected
    assert (
        rejected.column == "consent_artificial_voice"
        and "yes, no, true, false, 1, 0, y, n" in rejected.reason
    )


def test_over_long_values_reject_the_row_naming_column_and_limit():
    parsed = parse_text(f"phone,company,title\n3125550101,{'x' * 301},ok\n5125550102,Acme,{'t' * 300}\n")
    (rejected,) = parsed.rejected
    assert (rejected.row, rejected.column, rejected.reason) == (
        2,
        "company",
        "301 characters; the limit is 300",
    )
    assert parsed.leads[0].title == "t" * 300


def test_state_names_and_zip_forms():
    parsed = parse_text(
        "phone,state,zip\n"
        "3125550101,new york,10001-0001\n"
        "5125550102,D.C.,200011234\n"
        "2065550103,Puerto Rico,901\n"
        "3055550104, tx ,\n"
    )
    got = [(d.state, d.zip) for d in parsed.leads]
    assert got == [("NY", "10001"), ("DC", "20001"), ("PR", None), ("TX", None)]
    assert [(w.row, w.column, w.value) for w in parsed.warnings] == [(4, "zip", "901")]


def test_several_phone_columns_pick_by_dial_priority_and_keep_alternates():
    parsed = parse_text(
        "home_phone,mobile,work_phone\n"
        "312-555-0101,(512) 555-0102 x7,206.555.0103\n"
        "312-555-0101,,800-555-0121\n"
    )
    first = parsed.leads[0]
    assert (first.phone_column, first.phone_e164, first.phone_extension) == ("mobile", "+15125550102", "7")
    assert first.fields["alt_phones"] == ["+12065550103", "+13125550101"]
    # row 3's home number is row 2's alternate, not its number: a separate lead.
    assert parsed.leads[1].phone_e164 == "+13125550101" and parsed.folded == ()


def test_folded_row_adds_nothing():
    parsed = parse_text("phone,first_name,tags\n312-555-0101,Ava,\n+1 (312) 555-0101,Eva,vip\n")
    (lead,) = parsed.leads
    assert (lead.first_name, lead.fields) == ("Ava", {})
    assert [(f.row, f.duplicate_of_row) for f in parsed.folded] == [(3, 2)]


def test_rejected_row_does_not_absorb_a_later_duplicate():
    parsed = parse_text(f"phone,company\n312-555-0101,{'x' * 400}\n3125550101,Acme\n")
    assert [r.row for r in parsed.rejected] == [2]
    assert [(d.row, d.company) for d in parsed.leads] == [(3, "Acme")]


def test_unknown_default_region_is_refused():
    with pytest.raises(ImportFileError, match="'XX' is not a region code"):
        parse_text("phone\n3125550101\n", default_region="XX")


def test_non_us_region_and_default_region():
    parsed = parse_text("phone\n020 7946 0958\n", default_region="GB")
    (lead,) = parsed.leads
    assert lead.phone_e164 == "+442079460958" and lead.region == "GB"
    assert "outside the US" in parsed.warnings[0].reason


def test_row_numbers_match_the_rejected_report_shape():
    parsed = parse_file(EXAMPLE)
    out = io.StringIO()
    csv.writer(out).writerows((r.row, r.column, r.value, r.reason) for r in parsed.rejected)
    assert (
        out.getvalue().splitlines()[0]
        == "25,phone,911-555-0124,not a valid number (area code 911 is not valid)"
    )
