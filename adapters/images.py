"""Checking and re-encoding an uploaded photo with Pillow.

Only JPEG, PNG and WebP are taken. Each upload is decoded in full (a truncated or forged
file is refused), turned upright by its EXIF orientation, resized to at most `MAX_SIDE`
pixels, and written again as a new JPEG without any metadata: the EXIF block with the
phone's location and make never reaches the database. The digest is the SHA-256 of those
new bytes, so the same photo re-encoded the same way is kept once.
"""

from __future__ import annotations

import hashlib
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from application.photos import NewPhoto
from domain.errors import Invalid
from domain.photos import MAX_PHOTO_BYTES, MAX_SIDE, THUMB_SIDE, PhotoFacts, TooLarge

ACCEPTED = frozenset({"JPEG", "PNG", "WEBP", "MPO"})  # MPO: some phones' JPEG
# A decompression bomb is refused before it is decoded: 40 megapixels is more than any
# phone camera of today takes.
MAX_PIXELS = 40_000_000
QUALITY = 85


def check_photo(raw: bytes, field: str = "photo", limit: int = MAX_PHOTO_BYTES) -> NewPhoto:
    """The upload checked and re-encoded with its thumbnail; Invalid or TooLarge naming
    `field` when it is empty, too big, or not a photo."""
    if not raw:
        raise Invalid([(field, "is empty: choose or take a photo")])
    if len(raw) > limit:
        raise TooLarge(field, limit)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.format not in ACCEPTED:
                raise Invalid([(field, "must be a JPEG, PNG or WebP photo")])
            if image.width * image.height > MAX_PIXELS:
                raise Invalid([(field, "has too many pixels (at most 40 megapixels)")])
            image.load()
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning) as exc:
        raise Invalid([(field, "is not a readable JPEG, PNG or WebP photo")]) from exc
    upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    data = _jpeg(upright)
    small = upright.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE))
    facts = PhotoFacts(
        digest=hashlib.sha256(data).hexdigest(),
        content_type="image/jpeg",
        width=upright.width,
        height=upright.height,
        size=len(data),
    )
    return NewPhoto(facts=facts, data=data, thumb=_jpeg(small))


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif= and no icc_profile=: Pillow writes none unless told to.
    image.save(out, format="JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
