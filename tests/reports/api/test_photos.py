"""Photos: type from content, limits, re-encoding without metadata, thumbnails, tokens."""

from __future__ import annotations

import io
import json

import pillow_heif
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reports.api.keys import api_key_issue
from reports.models import ApiClient, Photo, Report
from tests.reports.factories import BALLERUP_TOWN

URL = "/api/v1/reports/"


def image_bytes(fmt: str, size=(800, 600), exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    if fmt == "HEIF":
        pillow_heif.from_pillow(image).save(out, format="HEIF")
        return out.getvalue()
    kwargs = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"                      # Make
        exif.get_ifd(0x8825)[2] = (55.0, 43.0, 48.0)     # GPSLatitude
        kwargs["exif"] = exif
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def report_json() -> str:
    return json.dumps({"location": {"type": "Point", "coordinates": list(BALLERUP_TOWN)},
                       "category": "pothole", "description": "Hul med foto"})


def create_with_photos(api, *files):
    return api.post(URL, {"report": report_json(), "photo": list(files)}, format="multipart")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_each_accepted_type_is_reencoded_as_jpeg_with_a_thumbnail(api, world, fmt):
    response = create_with_photos(api, upload(f"photo.{fmt.lower()}", image_bytes(fmt)))
    assert response.status_code == 201, response.content
    feature = response.json()
    (photo_json,) = feature["properties"]["photos"]
    assert feature["properties"]["media_url"] == photo_json["url"]
    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (800, 600)
    with default_storage.open(photo.image) as f:
        stored = Image.open(io.BytesIO(f.read()))
        assert stored.format == "JPEG"
    with default_storage.open(photo.thumbnail) as f:
        assert max(Image.open(io.BytesIO(f.read())).size) == 320
    assert photo.image.startswith("photos/") and photo.image.endswith(".jpg")
    assert "photo" not in photo.image.split("/")[-1]  # server-generated name


def test_exif_and_gps_are_stripped(api, world):
    original = image_bytes("JPEG", exif_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    assert create_with_photos(api, upload("gps.jpg", original)).status_code == 201
    with default_storage.open(Photo.objects.get().image) as f:
        stored = f.read()
    image = Image.open(io.BytesIO(stored))
    assert not image.getexif() and b"PhoneMaker" not in stored
    assert "exif" not in image.info and "icc_profile" not in image.info


def test_type_comes_from_content_not_name(api, world):
    png_named_jpg = create_with_photos(api, upload("photo.jpg", image_bytes("PNG")))
    assert png_named_jpg.status_code == 201
    text = create_with_photos(api, upload("photo.jpg", b"this is not a photo at all"))
    assert text.status_code == 415
    assert "photos.0" in text.json()["errors"]
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    assert create_with_photos(api, upload("a.jpg", gif.getvalue())).status_code == 415
    assert Report.objects.count() == 1


def test_decompression_bomb_and_big_files_are_refused(api, world, settings):
    settings.PHOTO_MAX_PIXELS = 1_000_000
    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(bomb, format="PNG")  # ~50 kB, 400 megapixels
    assert len(bomb.getvalue()) < 200_000
    response = create_with_photos(api, upload("bomb.png", bomb.getvalue()))
    assert response.status_code == 413, response.content
    settings.PHOTO_MAX_BYTES = 1000
    assert create_with_photos(api, upload("big.jpg", image_bytes("JPEG"))).status_code == 413
    assert Report.objects.count() == 0 and Photo.objects.count() == 0


def test_more_photos_later_with_the_upload_token_only(api, world):
    created = api.post(URL, json.loads(report_json()), format="json").json()
    token = created["photo_upload_token"]
    url = f"{URL}{created['id']}/photos/"
    no_token = api.post(url, {"photo": upload("a.jpg", image_bytes("JPEG"))}, format="multipart")
    assert no_token.status_code == 403
    other = api.post(URL, json.loads(report_json()), format="json").json()
    wrong = api.post(url, {"photo": upload("a.jpg", image_bytes("JPEG"))}, format="multipart",
                     HTTP_X_PHOTO_TOKEN=other["photo_upload_token"])
    assert wrong.status_code == 403
    ok = api.post(url, {"photo": upload("a.jpg", image_bytes("JPEG"))}, format="multipart",
                  HTTP_X_PHOTO_TOKEN=token)
    assert ok.status_code == 201, ok.content
    assert ok.json()["thumbnail_url"].endswith(".thumb.jpg")
    detail = api.get(f"{URL}{created['id']}/").json()
    assert detail["properties"]["version"] == 2 and len(detail["properties"]["photos"]) == 1


def test_api_key_of_the_municipality_may_add_photos(api, world):
    created = api.post(URL, json.loads(report_json()), format="json").json()
    key = api_key_issue(client=ApiClient.objects.create(name="Ballerup app",
                                                        municipality=world["ballerup"]))
    response = api.post(f"{URL}{created['id']}/photos/",
                        {"photo": upload("a.jpg", image_bytes("JPEG"))}, format="multipart",
                        HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 201


def test_multipart_without_report_json_is_400(api, world):
    response = api.post(URL, {"report": "{not json", "photo": upload("a.jpg", image_bytes(
        "JPEG"))}, format="multipart")
    assert response.status_code == 400 and "report" in response.json()["errors"]


# --- findings of the security review (each failed on db7da57) ------------------------------

def test_too_many_files_are_refused_before_any_is_decoded(api, world):
    """db7da57 decoded every file (up to Django's 100) before counting: 20 files that are no
    photos at all got 415 from the decoder. Counted first, they get 413."""
    garbage = [upload(f"{i}.jpg", b"not a photo") for i in range(20)]
    response = create_with_photos(api, *garbage)
    assert response.status_code == 413, response.content
    assert "files" in response.json()["message"]
    seven = [upload(f"{i}.jpg", b"not a photo") for i in range(7)]  # within Django's cap
    assert create_with_photos(api, *seven[:6], seven[6]).status_code == 413
    assert Report.objects.count() == 0


def test_photo_decoding_waits_for_a_free_slot_then_answers_503(api, world, settings):
    from reports import photos

    settings.PHOTO_DECODE_CONCURRENCY = 1
    settings.PHOTO_DECODE_WAIT_SECONDS = 1
    photos._decode_slots.cache_clear()
    slots = photos._decode_slots()
    slots.acquire()  # another request is decoding
    try:
        busy = create_with_photos(api, upload("a.jpg", image_bytes("JPEG")))
    finally:
        slots.release()
        photos._decode_slots.cache_clear()
    assert busy.status_code == 503 and int(busy["Retry-After"]) > 0
    assert Report.objects.count() == 0
    assert create_with_photos(api, upload("a.jpg", image_bytes("JPEG"))).status_code == 201
