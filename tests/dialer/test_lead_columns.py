import pytest

from dialer.errors import ImportFileError
from dialer.leads import detect_columns, normalize_header


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Phone", "phone"),
        ("  Phone Number #", "phone_number"),
        ("E-mail", "e_mail"),
        ("Zip/Postal  Code", "zip_postal_code"),
        ("__First__Name__", "first_name"),
        ("", ""),
    ],
)
def test_normalize_header(header, key):
    assert normalize_header(header) == key


def test_aliases_map_to_canonical_fields():
    headers = [
        "Telephone",
        "Cell Phone",
        "Work Phone",
        "Home Phone",
        "Alt Phone",
        "Given Name",
        "Surname",
        "Email Address",
        "Organisation",
        "Job Title",
        "Province",
        "Postal Code",
        "TCPA Consent",
        "Opt-in Date",
        "Consent Brand",
        "AI Voice Consent",
        "Consent URL",
        "Opt-out Date",
        "Industry",
    ]
    mapping = detect_columns(headers, path="f.csv")
    assert mapping.as_dict() == {
        "Telephone": "phone",
        "Cell Phone": "mobile",
        "Work Phone": "phone_work",
        "Home Phone": "phone_home",
        "Alt Phone": "phone_other",
        "Given Name": "first_name",
        "Surname": "last_name",
        "Email Address": "email",
        "Organisation": "company",
        "Job Title": "title",
        "Province": "state",
        "Postal Code": "zip",
        "TCPA Consent": "consent_type",
        "Opt-in Date": "consent_at",
        "Consent Brand": "consent_seller",
        "AI Voice Consent": "consent_artificial_voice",
        "Consent URL": "consent_url",
        "Opt-out Date": "consent_revoked_at",
        "Industry": "fields.industry",
    }


def test_phone_columns_in_dial_priority_not_file_order():
    mapping = detect_columns(["phone_other", "home_phone", "Work Phone", "mobile", "tel", "phone"], path="f")
    assert [c.header for c in mapping.phone_columns] == [
        "phone",
        "tel",
        "mobile",
        "Work Phone",
        "home_phone",
        "phone_other",
    ]


def test_email_columns_in_alias_order():
    mapping = detect_columns(["phone", "email_other", "email_home", "email_work"], path="f")
    assert [c.header for c in mapping.email_columns] == ["email_work", "email_home", "email_other"]


def test_two_detected_company_columns_keep_the_canonical_one_and_note_it():
    mapping = detect_columns(["phone", "company_name", "company"], path="f")
    assert mapping.as_dict() == {
        "phone": "phone",
        "company_name": "fields.company_name",
        "company": "company",
    }
    assert len(mapping.notes) == 1 and "'company_name'" in mapping.notes[0]


def test_map_overrides_detection_and_displaces_the_detected_column():
    mapping = detect_columns(
        ["Phone", "Org", "Company", "Notes"],
        mappings={"Org": "company", "Notes": "ignore", "Phone": "mobile"},
        path="f",
    )
    assert mapping.as_dict() == {
        "Phone": "mobile",
        "Org": "company",
        "Company": "fields.company",
        "Notes": "ignore",
    }
    assert "--map" in mapping.notes[0]


def test_map_field_names_are_case_insensitive_and_columns_may_be_trimmed():
    mapping = detect_columns(["Contact Number "], mappings={"Contact Number": "PHONE"}, path="f")
    assert mapping.as_dict() == {"Contact Number ": "phone"}


def test_map_unknown_column_lists_the_headers():
    with pytest.raises(ImportFileError) as exc:
        detect_columns(["phone", "Name"], mappings={"Nmae": "full_name"}, path="f.csv")
    assert exc.value.column == "Nmae"
    assert "'phone', 'Name'" in str(exc.value)


def test_map_unknown_field_lists_the_valid_fields():
    with pytest.raises(ImportFileError) as exc:
        detect_columns(["phone", "Name"], mappings={"Name": "fullname"}, path="f.csv")
    message = str(exc.value)
    assert "'fullname' is not a field" in message
    assert "full_name" in message and "consent_revoked_at" in message and "ignore" in message


def test_two_columns_mapped_to_one_single_valued_field_is_an_error():
    with pytest.raises(ImportFileError, match="'a', 'b' are all mapped to 'company'"):
        detect_columns(["phone", "a", "b"], mappings={"a": "company", "b": "company"}, path="f")


def test_two_columns_mapped_to_a_phone_field_is_fine():
    mapping = detect_columns(["a", "b"], mappings={"a": "phone", "b": "phone"}, path="f")
    assert [c.header for c in mapping.phone_columns] == ["a", "b"]


def test_no_phone_column_names_the_headers_and_the_fix():
    with pytest.raises(ImportFileError) as exc:
        detect_columns(["first_name", "Contact Number"], path="leads.csv")
    assert str(exc.value) == (
        "leads.csv: no phone column found; headers are 'first_name', 'Contact Number'; use --map COLUMN=phone"
    )


def test_mapping_the_only_phone_column_to_ignore_leaves_no_phone_column():
    with pytest.raises(ImportFileError, match="no phone column"):
        detect_columns(["phone", "name"], mappings={"phone": "ignore"}, path="f")


def test_duplicate_header_names_are_named():
    with pytest.raises(ImportFileError) as exc:
        detect_columns(["phone", "tags", "name", "tags"], path="f", header_row=1)
    assert "'tags' (2 times)" in str(exc.value) and exc.value.row == 1


def test_headers_equal_once_normalised_collide():
    with pytest.raises(ImportFileError, match="'First Name', 'first_name'"):
        detect_columns(["phone", "First Name", "first_name"], path="f")
    mapping = detect_columns(
        ["phone", "First Name", "first_name"], mappings={"First Name": "ignore"}, path="f"
    )
    assert mapping.as_dict()["first_name"] == "first_name"


def test_empty_headers_get_positional_keys():
    mapping = detect_columns(["phone", "", ""], path="f")
    assert [c.key for c in mapping.columns] == ["phone", "column_2", "column_3"]
    assert mapping.as_dict() == {
        "phone": "phone",
        "(column 2)": "fields.column_2",
        "(column 3)": "fields.column_3",
    }


def test_reserved_field_names_are_refused_unless_mapped():
    with pytest.raises(ImportFileError, match="used by the importer itself"):
        detect_columns(["phone", "Alt Phones"], path="f")
    detect_columns(["phone", "Alt Phones"], mappings={"Alt Phones": "ignore"}, path="f")


def test_consent_columns_without_consent_type_are_refused():
    with pytest.raises(ImportFileError, match="no consent_type column"):
        detect_columns(["phone", "opt_out_date"], path="f")
