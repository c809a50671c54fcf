import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.privacy import is_cpr, is_personnummer, mask_identity_numbers


@pytest.mark.parametrize("text,expected", [
    ("Mit CPR er 010190-1234, ring", "Mit CPR er ******-****, ring"),
    ("cpr 0101901234.", "cpr **********."),
    ("290200-1234", "******-****"),          # 29 Feb 2000 exists
    ("Personnummer 811218-9876 tack", "Personnummer ******-**** tack"),
    ("19811218-9876", "********-****"),
    ("198112189876", "************"),
    ("811218+9876", "******+****"),          # over 100 years old
    ("8112189876", "**********"),
    ("701063-2391", "******-****"),          # samordningsnummer (day 63 = 3rd)
    # The gaps a review found on db7da57: a space, an en dash, a label glued on.
    ("cpr 010190 1234", "cpr ****** ****"),
    ("cpr 010190\u20131234", "cpr ******\u2013****"),
    ("CPR-010190-1234", "CPR-******-****"),
    ("nr.010190\u00a01234", "nr.******\u00a0****"),
    ("811218 9876", "****** ****"),
])
def test_numbers_are_masked(text, expected):
    assert mask_identity_numbers(text) == expected


@pytest.mark.parametrize("text", [
    "Ring 20 11 22 33 eller +45 20112233",
    "Mobil 070-123 45 67",
    "+46701234567",
    "320190-1234",            # 32 January
    "011390-1234",            # month 13
    "300290-1234",            # 30 February
    "811218-9875",            # Swedish shape, Luhn fails, and 81 is no day
    "ordre 12345678901234",   # longer run of digits
    "kode 010190-12345",      # glued to another digit
    "postnummer 2750 og husnr 12",
    "",
])
def test_other_numbers_are_left_alone(text):
    assert mask_identity_numbers(text) == text


def test_many_numbers_in_one_text_and_originals_untouched():
    original = "A: 010190-1234, B: 811218-9876, tlf 20112233"
    masked = mask_identity_numbers(original)
    assert masked == "A: ******-****, B: ******-****, tlf 20112233"
    assert original.startswith("A: 010190")


def test_the_checks_themselves():
    assert is_cpr("311299-0001") and not is_cpr("311199-0001")  # 31 Nov does not exist
    assert is_personnummer("811218-9876") and not is_personnummer("811218-9877")
    assert not is_personnummer("21811218-9876")  # century 21


@given(st.text(alphabet="0123456789 -+abc", max_size=60))
def test_masking_keeps_length_and_is_idempotent(text):
    masked = mask_identity_numbers(text)
    assert len(masked) == len(text)
    assert mask_identity_numbers(masked) == masked


@pytest.mark.parametrize(("typed", "public"), [
    ("Ring til mig på 20 11 22 33", "Ring til mig på ** ** ** **"),
    ("mobil 20112233.", "mobil ********."),
    ("+45 20 11 22 33 efter kl. 16", "+** ** ** ** ** efter kl. 16"),
    ("0045 20112233", "**** ********"),
    ("tlf. 2011-2233", "tlf. ****-****"),
    ("070-123 45 67 (Sverige)", "***-*** ** ** (Sverige)"),
    ("skriv til nabo.jensen@example.dk eller mig", "skriv til ***@*** eller mig"),
])
def test_phone_numbers_and_e_mail_addresses_in_citizen_text_are_masked(typed, public):
    from reports.privacy import mask_citizen_text

    assert mask_citizen_text(typed) == public


@pytest.mark.parametrize("kept", [
    "Hullet har været der siden 2026-11-01 kl. 14.30",
    "siden 01.11.2026", "siden 1/11-2026", "Vej 12, 2750 Ballerup", "ca. 1.250.000 kr",
    "nummerplade AB 12 345", "år 2025 og 2026",
])
def test_dates_amounts_addresses_and_plates_are_not_phone_numbers(kept):
    from reports.privacy import mask_citizen_text

    assert mask_citizen_text(kept) == kept


@pytest.mark.django_db
def test_a_filed_description_is_public_without_the_contact_details(client):
    from tests.reports.factories import file_report
    from tests.reports.worlds import roads_world

    roads_world()
    report = file_report(description="Ring 20 11 22 33 eller skriv mette@example.dk")
    assert report.description == "Ring 20 11 22 33 eller skriv mette@example.dk"
    assert report.public_description == "Ring ** ** ** ** eller skriv ***@***"
    detail = client.get(f"/api/v1/reports/{report.pk}/").content.decode()
    assert "20 11 22 33" not in detail and "mette@example.dk" not in detail
