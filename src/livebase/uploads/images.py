"""Image uploads: checked by content (not by name), re-encoded without metadata, thumbnailed.

Re-encoding drops EXIF (phone photos carry GPS positions) and anything hidden after the
image data; the decoded pixel count is bounded to refuse decompression bombs.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from livebase.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# 40 megapixels: above any phone camera, far below what would exhaust memory when decoded.
MAX_PIXELS = 40_000_000
THUMB_SIZE = (480, 480)


@dataclass(frozen=True)
class StoredImage:
    path: str  # relative to the uploads directory
    thumb_path: str
    content_type: str
    width: int
    height: int
    size_bytes: int


def store_image(data: bytes, uploads_dir: Path, folder: str, stem: str, limit: int) -> StoredImage:
    if len(data) > limit:
        raise PayloadTooLarge(f"Images may be at most {limit // (1024 * 1024)} MiB.")
    if not data:
        raise ValidationFailed("The file is empty.", loc="file")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or ""
            width, height = probe.size
            if fmt not in FORMATS:
                raise UnsupportedMediaType("Images must be JPEG, PNG or WebP.")
            if width * height > MAX_PIXELS:
                raise PayloadTooLarge("The image has too many pixels.")
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            content_type, ext = FORMATS[fmt]
            target = uploads_dir / folder
            target.mkdir(parents=True, exist_ok=True)
            clean = img.convert("RGB") if fmt == "JPEG" and img.mode not in ("RGB", "L") else img
            clean.save(target / f"{stem}.{ext}", format=fmt, **_save_options(fmt))
            thumb = img.convert("RGB")
            thumb.thumbnail(THUMB_SIZE)
            thumb.save(target / f"{stem}.thumb.webp", format="WEBP", quality=80)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMediaType("The file is not a readable JPEG, PNG or WebP image.") from exc
    except Image.DecompressionBombError as exc:
        raise PayloadTooLarge("The image has too many pixels.") from exc
    return StoredImage(
        path=f"{folder}/{stem}.{ext}",
        thumb_path=f"{folder}/{stem}.thumb.webp",
        content_type=content_type,
        width=width,
        height=height,
        size_bytes=len(data),
    )


def _save_options(fmt: str) -> dict[str, object]:
    if fmt == "JPEG":
        return {"quality": 90}
    if fmt == "WEBP":
        return {"quality": 90}
    return {"optimize": True}
