"""Reporting without the map, through plain HTTP (no JavaScript): find the place by
address, choose the category, describe, add a photo, send, and the same confirmation;
sending the form twice files once; refusals name the field."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from maps.models import Address, Area
from reports.models import CategoryNotice, Report
from tests.reports.worlds import two_municipalities

pytestmark = pytest.mark.django_db

URL = "/report/"


@pytest.fixture
def world():
    return two_municipalities()


@pytest.fixture
def address(world) -> Address:
    copenhagen = Area.objects.get(kind=Area.Kind.MUNICIPALITY, code="0101")
    return Address.objects.filter(location__within=copenhagen.geom).order_by("id")[0]


def choose(client, address: Address) -> tuple[str, str]:
    """Step 1 as a person does it: search, then follow the matching address's link."""
    street = address.label.split(",")[0]
    page = client.get(URL, {"q": street}, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    links = re.findall(r'href="(/report/\?place=[^"]+)">([^<]+)</a>', page)
    (href,) = [h for h, label in links if label == address.label]
    return href.replace("&amp;", "&"), page


def form_of(page: str) -> dict[str, str]:
    return {name: value for name, value in re.findall(
        r'<input type="hidden" name="(place|address|form_token)" value="([^"]*)"', page)}


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "red").save(out, "JPEG")
    return SimpleUploadedFile("hul.jpg", out.getvalue(), content_type="image/jpeg")


def test_a_report_by_address_without_the_map(client, address):
    href, _ = choose(client, address)
    page = client.get(href, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Trin 2 af 2" in page and address.label in unquote(page)
    fields = form_of(page)
    sent = client.post(URL, {**fields, "category": "pothole", "description": "Hul i vejen",
                             "email": "borger@example.dk", "photos": jpeg()},
                       HTTP_ACCEPT_LANGUAGE="da")
    assert sent.status_code == 201, sent.content.decode()[:2000]
    report = Report.objects.get()
    assert (report.source, report.address, report.municipality.code) == (
        "web", address.label, "0101")
    assert report.photos.count() == 1 and report.reporter_email == "borger@example.dk"
    assert f"nr. {report.pk}" in sent.content.decode()
    again = client.post(URL, {**fields, "category": "pothole", "description": "Hul i vejen",
                              "email": "borger@example.dk", "photos": jpeg()})
    assert again.status_code == 201 and Report.objects.count() == 1  # sent twice, filed once


def test_refusals_name_the_field_and_keep_what_was_written(client, address):
    href, _ = choose(client, address)
    fields = form_of(client.get(href).content.decode())
    response = client.post(URL, {**fields, "category": "pothole", "description": ""},
                           HTTP_ACCEPT_LANGUAGE="da")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    assert 'value="pothole" checked' in page
    missing = client.post(URL, {**fields, "description": "Hul"})
    assert missing.status_code == 400 and 'id="category-error"' in missing.content.decode()
    assert not Report.objects.exists()


def test_no_match_and_a_place_outside_every_municipality(client, world):
    page = client.get(URL, {"q": "Ingen Sådan Vej 999"}, HTTP_ACCEPT_LANGUAGE="da")
    assert 'id="no-matches"' in page.content.decode()
    outside = client.get(URL, {"place": "10.39,55.40", "address": "Odense"})
    assert outside.status_code == 400
    assert "Ballerup Kommune" in outside.content.decode() or \
        "København" in outside.content.decode()


def test_a_stopper_is_shown_by_its_category_and_refuses_the_report(client, world, address):
    CategoryNotice.objects.create(
        municipality=world["copenhagen"], category=world["copenhagen"].categories.get(
            code="litter"), kind="stopper", text_da="Ring til Affaldsservice.",
        phone="33 66 33 66")
    href, _ = choose(client, address)
    page = client.get(href, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert 'aria-describedby="notices-litter"' in page and "Affaldsservice" in page
    refused = client.post(URL, {**form_of(page), "category": "litter",
                                "description": "Affald"})
    assert refused.status_code == 400 and "Affaldsservice" in refused.content.decode()
    assert not Report.objects.exists()
