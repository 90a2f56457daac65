"""Photos are recognised by content, cleaned of metadata, resized, and fakes or bombs are refused."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from ioc.modules.citizen_report.constants import MAX_PHOTO_BYTES
from ioc.modules.citizen_report.exceptions import PhotoRejected
from ioc.modules.citizen_report.photos import MediaStore, PhotoUpload, process_image, sniff_type

from .conftest import image_bytes, jpeg_bytes


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims huge dimensions: the classic decompression bomb shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


class TestAcceptedFormats:
    def test_a_jpeg_is_re_encoded_as_jpeg_with_a_thumbnail(self) -> None:
        photo = process_image(PhotoUpload("pothole.jpg", jpeg_bytes(640, 480)))
        assert photo.original_type == "image/jpeg"
        assert (photo.width, photo.height) == (640, 480)
        assert _open(photo.jpeg).format == "JPEG"
        assert _open(photo.thumb).size == (320, 240)
        assert len(photo.sha256) == 64

    @pytest.mark.parametrize(
        ("fmt", "expected"), [("PNG", "image/png"), ("WEBP", "image/webp"), ("HEIF", "image/heic")]
    )
    def test_png_webp_and_heic_become_jpeg(self, fmt: str, expected: str) -> None:
        photo = process_image(PhotoUpload(f"photo.{fmt.lower()}", image_bytes(fmt)))
        assert photo.original_type == expected
        assert _open(photo.jpeg).format == "JPEG"
        assert (photo.width, photo.height) == (400, 300)

    def test_the_type_comes_from_the_content_not_the_name(self) -> None:
        photo = process_image(PhotoUpload("looks-like.jpg", image_bytes("PNG")))
        assert photo.original_type == "image/png"

    def test_transparency_becomes_white(self) -> None:
        photo = process_image(PhotoUpload("logo.png", image_bytes("PNG", mode="RGBA")))
        r, g, b = _open(photo.jpeg).convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert r > 120
        assert g > 180
        assert b > 220

    def test_large_photos_are_shrunk_to_2048_pixels(self) -> None:
        photo = process_image(PhotoUpload("wide.jpg", jpeg_bytes(3000, 1500)))
        assert (photo.width, photo.height) == (2048, 1024)
        assert _open(photo.thumb).size == (320, 160)

    def test_the_picture_is_turned_upright_from_its_exif_orientation(self) -> None:
        image = Image.new("RGB", (640, 480), "#336699")
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90° clockwise to display
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", exif=exif)
        photo = process_image(PhotoUpload("portrait.jpg", buffer.getvalue()))
        assert (photo.width, photo.height) == (480, 640)


class TestMetadata:
    def test_gps_is_read_as_a_suggestion_and_all_exif_is_stripped(self) -> None:
        photo = process_image(PhotoUpload("gps.jpg", jpeg_bytes(gps=(11.61507, 105.86238))))
        assert photo.gps is not None
        assert photo.gps.lat == pytest.approx(11.61507, abs=1e-4)
        assert photo.gps.lon == pytest.approx(105.86238, abs=1e-4)
        for data in (photo.jpeg, photo.thumb):
            cleaned = _open(data)
            assert dict(cleaned.getexif()) == {}
            assert "exif" not in cleaned.info

    def test_a_photo_without_gps_gives_no_suggestion(self) -> None:
        assert process_image(PhotoUpload("plain.jpg", jpeg_bytes())).gps is None


class TestRefused:
    def test_text_named_jpg_is_refused(self) -> None:
        with pytest.raises(PhotoRejected) as caught:
            process_image(PhotoUpload("not-a-photo.jpg", b"This is a text file pretending to be a photo.\n" * 20))
        assert "không phải ảnh" in caught.value.message_vi
        assert "not a JPEG, PNG, WebP or HEIC" in caught.value.message_en

    def test_a_truncated_jpeg_is_refused(self) -> None:
        data = jpeg_bytes()
        with pytest.raises(PhotoRejected):
            process_image(PhotoUpload("broken.jpg", data[: len(data) // 3]))

    def test_a_gif_is_refused(self) -> None:
        with pytest.raises(PhotoRejected):
            process_image(PhotoUpload("anim.gif", image_bytes("GIF")))

    def test_a_png_bomb_is_refused_before_decoding(self) -> None:
        bomb = _png_claiming(100_000, 100_000)
        assert len(bomb) < 200
        with pytest.raises(PhotoRejected) as caught:
            process_image(PhotoUpload("bomb.png", bomb))
        assert "điểm ảnh" in caught.value.message_vi

    def test_an_oversize_file_is_refused(self) -> None:
        data = b"\xff\xd8\xff\xe0" + b"\x00" * MAX_PHOTO_BYTES
        with pytest.raises(PhotoRejected) as caught:
            process_image(PhotoUpload("huge.jpg", data))
        assert "10 MB" in caught.value.message_en

    def test_sniffing_knows_the_four_formats_only(self) -> None:
        assert sniff_type(jpeg_bytes()) == "image/jpeg"
        assert sniff_type(image_bytes("PNG")) == "image/png"
        assert sniff_type(image_bytes("WEBP")) == "image/webp"
        assert sniff_type(image_bytes("HEIF")) == "image/heic"
        assert sniff_type(b"%PDF-1.7") is None


class TestMediaStore:
    def test_files_get_random_names_under_the_data_folder_and_can_be_discarded(self, tmp_path: Path) -> None:
        store = MediaStore.under(tmp_path)
        photo = process_image(PhotoUpload("a.jpg", jpeg_bytes()))
        when = datetime(2026, 11, 26, tzinfo=UTC)
        first = store.save(photo, when)
        second = store.save(photo, when)
        assert first.file_name != second.file_name
        assert first.file_name.startswith("2026/11/")
        stored = store.path(first.file_name)
        assert stored is not None
        assert stored.is_relative_to(tmp_path / "media" / "citizen_report")
        assert store.path("../../../etc/passwd") is None
        store.discard()
        assert store.path(first.file_name) is None
        assert store.path(second.thumb_name) is None
