"""Photo intake: detect the real type from the content, refuse what is too big, re-encode
(which drops every metadata block, EXIF GPS included) and make a thumbnail."""

from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from geoservice.errors import (
    InvalidInput,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)

register_heif_opener()  # iPhones send HEIC

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF"}


class UnsupportedPhoto(UnsupportedMediaType):
    default_message = "Send a JPEG, PNG, WebP or HEIC photo."


def read_uploads(uploads, field: str) -> list[bytes]:
    """The bytes of uploaded photo files, each refused by its size before it is read (the
    one place that checks PHOTO_MAX_BYTES for uploads; process_photo checks the bytes)."""
    photos = []
    for index, upload in enumerate(uploads):
        if upload.size > settings.PHOTO_MAX_BYTES:
            raise PayloadTooLarge(
                f"A photo may be at most {settings.PHOTO_MAX_BYTES} bytes.",
                {f"{field}.{index}": [f"{upload.size} bytes is too large."]})
        photos.append(upload.read())
    return photos


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    name: str
    thumbnail_name: str


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # A fresh JPEG with no exif/icc/xmp arguments carries no metadata at all.
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


@cache
def _decode_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(settings.PHOTO_DECODE_CONCURRENCY)


def process_photo(data: bytes, *, field: str = "photo") -> ProcessedPhoto:
    """Validate and re-encode one uploaded photo. Raises a 4xx application error.

    Decoding a large photo takes a core for a while; at most PHOTO_DECODE_CONCURRENCY run
    at once per process (anonymous requests could otherwise have every core decode 50-MP
    images). A photo that waits longer than PHOTO_DECODE_WAIT_SECONDS for a turn gets 503
    with Retry-After."""
    if not _decode_slots().acquire(timeout=settings.PHOTO_DECODE_WAIT_SECONDS):
        raise ServiceUnavailable("Photos are being processed for others; try again shortly.",
                                 dependency="photo decoding", retry_after=5)
    try:
        return _process(data, field)
    finally:
        _decode_slots().release()


def _process(data: bytes, field: str) -> ProcessedPhoto:
    if len(data) > settings.PHOTO_MAX_BYTES:
        raise PayloadTooLarge(
            f"A photo may be at most {settings.PHOTO_MAX_BYTES} bytes (got {len(data)}).",
            {field: ["Photo too large."]},
        )
    if not data:
        raise InvalidInput("The photo is empty.", {field: ["Empty file."]})
    Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            if kind not in ACCEPTED_FORMATS:
                raise UnsupportedPhoto(
                    f"{kind or 'This file'} is not an accepted photo type.",
                    {field: ["Send a JPEG, PNG, WebP or HEIC photo."]},
                )
            if width * height > settings.PHOTO_MAX_PIXELS:
                raise PayloadTooLarge(
                    f"The photo has {width} x {height} pixels; at most "
                    f"{settings.PHOTO_MAX_PIXELS} are accepted.", {field: ["Too many pixels."]},
                )
            probe.load()
            image = ImageOps.exif_transpose(probe)  # keep the orientation, lose the EXIF
            image = image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PayloadTooLarge("The photo decompresses to too many pixels.",
                              {field: ["Too many pixels."]}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnsupportedPhoto("The file is not a readable photo.",
                               {field: ["Not a readable JPEG, PNG, WebP or HEIC photo."]}) from None
    image.thumbnail((settings.PHOTO_MAX_SIDE, settings.PHOTO_MAX_SIDE))
    thumbnail = image.copy()
    thumbnail.thumbnail((settings.PHOTO_THUMBNAIL_SIDE, settings.PHOTO_THUMBNAIL_SIDE))
    stem = uuid.uuid4().hex
    return ProcessedPhoto(
        image=_encode(image), thumbnail=_encode(thumbnail), width=image.width,
        height=image.height, name=f"photos/{stem[:2]}/{stem}.jpg",
        thumbnail_name=f"photos/{stem[:2]}/{stem}.thumb.jpg",
    )
