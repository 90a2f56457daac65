"""Photos: recognise images by content, refuse fakes and bombs, re-encode without metadata, store on disk.

Every accepted photo is decoded by Pillow (with the HEIF plug-in for iPhone pictures), turned upright,
re-encoded as JPEG (at most 2048 px on the long side) with no EXIF or other metadata, and given a 320 px
thumbnail. The GPS position in the original EXIF, if any, is read first and offered to the reporter as a
location suggestion; it is never stored with the picture.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from .constants import JPEG_QUALITY, MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS, MAX_PHOTO_SIDE, MEDIA_FOLDER, THUMB_SIDE
from .exceptions import photo_not_an_image, photo_too_large, photo_too_many_pixels
from .schemas import LocationSuggestion

pillow_heif.register_heif_opener()

# Pillow format name → the type the file claimed by its content. MPO is the multi-picture JPEG of some phones.
ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
}
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"})
GPS_IFD = 0x8825
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4


@dataclass(frozen=True)
class PhotoUpload:
    """A file as received: the name the client gave and its bytes."""

    file_name: str
    data: bytes


@dataclass(frozen=True)
class ProcessedPhoto:
    """A photo ready to store: JPEG bytes without metadata, its thumbnail, and what was learnt from it."""

    original_type: str
    jpeg: bytes
    thumb: bytes
    width: int
    height: int
    sha256: str
    gps: LocationSuggestion | None


def sniff_type(data: bytes) -> str | None:
    """Return the image type announced by the file's first bytes, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "image/heic"
    return None


def _to_degrees(value: Any) -> float:
    parts = [float(Fraction(str(part))) if not isinstance(part, float | int) else float(part) for part in value]
    while len(parts) < 3:
        parts.append(0.0)
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def read_gps(image: Image.Image) -> LocationSuggestion | None:
    """Return the EXIF GPS position of an image, or None when it has none or it is unusable."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
        if not gps or GPS_LAT not in gps or GPS_LON not in gps:
            return None
        lat = _to_degrees(gps[GPS_LAT])
        lon = _to_degrees(gps[GPS_LON])
    except (ValueError, TypeError, ZeroDivisionError, KeyError, AttributeError, SyntaxError):
        # Broken EXIF is common (edited files, odd cameras): no suggestion rather than a refused photo.
        return None
    if str(gps.get(GPS_LAT_REF, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(GPS_LON_REF, "E")).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return LocationSuggestion(lat=round(lat, 6), lon=round(lon, 6))


def _flatten(image: Image.Image) -> Image.Image:
    """Return an RGB image; transparency becomes white, as on a printed page."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # No exif=, icc_profile= or comment: the file carries pixels only.
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()


def process_image(upload: PhotoUpload) -> ProcessedPhoto:
    """Check a file by content and return the cleaned JPEG, its thumbnail and its GPS suggestion."""
    name = upload.file_name or "?"
    if len(upload.data) > MAX_PHOTO_BYTES:
        raise photo_too_large(name)
    claimed = sniff_type(upload.data)
    if claimed is None:
        raise photo_not_an_image(name)
    # The declared dimensions are checked before any pixel is decoded; Pillow's own bomb guard (a warning,
    # made an error here, then an error at twice its limit) backs that up for formats that lie about size.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(upload.data)) as opened:
                actual = ACCEPTED_FORMATS.get(opened.format or "")
                if actual is None or actual != claimed:
                    raise photo_not_an_image(name)
                width, height = opened.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise photo_too_many_pixels(name)
                gps = read_gps(opened)
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                picture = _flatten(upright)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise photo_too_many_pixels(name) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            # Truncated or corrupt data that only looked like an image.
            raise photo_not_an_image(name) from exc
    picture.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE), Image.Resampling.LANCZOS)
    jpeg = _jpeg(picture)
    thumb_image = picture.copy()
    thumb_image.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        original_type=claimed,
        jpeg=jpeg,
        thumb=_jpeg(thumb_image),
        width=picture.width,
        height=picture.height,
        sha256=hashlib.sha256(upload.data).hexdigest(),
        gps=gps,
    )


@dataclass
class StoredFiles:
    """Where a processed photo was written, relative to the media folder."""

    file_name: str
    thumb_name: str


@dataclass
class MediaStore:
    """Writes photos under <data_dir>/media/citizen_report/YYYY/MM/ with random names; can undo its writes."""

    root: Path
    written: list[Path] = field(default_factory=list)

    @classmethod
    def under(cls, data_dir: Path) -> MediaStore:
        """Return the store of an installation's data folder."""
        return cls(root=data_dir / "media" / MEDIA_FOLDER)

    def save(self, photo: ProcessedPhoto, when: datetime) -> StoredFiles:
        """Write a photo and its thumbnail; return their relative names."""
        folder = f"{when:%Y}/{when:%m}"
        stem = secrets.token_hex(16)
        names = StoredFiles(file_name=f"{folder}/{stem}.jpg", thumb_name=f"{folder}/{stem}_t.jpg")
        target = self.root / folder
        target.mkdir(parents=True, exist_ok=True)
        for relative, data in ((names.file_name, photo.jpeg), (names.thumb_name, photo.thumb)):
            path = self.root / relative
            path.write_bytes(data)
            self.written.append(path)
        return names

    def discard(self) -> None:
        """Delete what this store wrote (the transaction that referenced the files failed)."""
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()

    def path(self, relative: str) -> Path | None:
        """Return the absolute path of a stored file, or None if it is missing or outside the store."""
        candidate = (self.root / relative).resolve()
        root = self.root.resolve()
        if root not in candidate.parents or not candidate.is_file():
            return None
        return candidate
