"""Files: image sniffing, turning uploads / file_ids / URLs into stored files, JSON views."""

from __future__ import annotations

import mimetypes
import struct
from typing import Any

import aiohttp

from sandbox.errors import ApiError, UploadedFile, bad_request
from sandbox.state import FileRecord, World

JSON = dict[str, Any]

BOT_UPLOAD_MAX_BYTES = 50 * 1024 * 1024
PHOTO_MAX_BYTES = 10 * 1024 * 1024
URL_FETCH_MAX_BYTES = 20 * 1024 * 1024


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def guess_mime(filename: str | None, fallback: str | None) -> str:
    guessed = mimetypes.guess_type(filename or "")[0]
    if guessed:
        return guessed
    if fallback and fallback != "application/octet-stream":
        return fallback
    return "application/octet-stream"


def store_photo(world: World, data: bytes) -> FileRecord:
    """A photo as Telegram stores it; refuses what Telegram cannot process as an image."""
    if not data:
        raise bad_request("file must be non-empty")
    if len(data) > PHOTO_MAX_BYTES:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    size = image_size(data)
    if size is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    width, height = size
    if width <= 0 or height <= 0 or width + height > 10000 or max(size) > 20 * min(size):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return world.new_file("photo", data, mime_type="image/jpeg", width=width, height=height)


def store_document(
    world: World, data: bytes, filename: str | None, content_type: str | None
) -> FileRecord:
    if not data:
        raise bad_request("file must be non-empty")
    name = filename or "document"
    return world.new_file(
        "document", data, file_name=name, mime_type=guess_mime(name, content_type)
    )


async def resolve_input(
    world: World, value: UploadedFile | str, kind: str, *, http: aiohttp.ClientSession | None
) -> FileRecord:
    """The file a send method refers to: a fresh upload, a known file_id or an HTTP URL."""
    if isinstance(value, UploadedFile):
        if len(value.data) > BOT_UPLOAD_MAX_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo":
            return store_photo(world, value.data)
        return store_document(world, value.data, value.filename, value.content_type)
    if value.startswith(("http://", "https://")):
        data, content_type = await _fetch(value, http)
        if kind == "photo":
            return store_photo(world, data)
        name = value.rsplit("/", 1)[-1].split("?", 1)[0] or "file"
        return store_document(world, data, name, content_type)
    record = world.files.get(value)
    if record is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if record.kind != kind:
        raise bad_request(f"can't use file of type {record.kind.title()} as {kind.title()}")
    return record


async def _fetch(url: str, http: aiohttp.ClientSession | None) -> tuple[bytes, str | None]:
    if http is None:
        raise bad_request("failed to get HTTP URL content")
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
            if response.status != 200:
                raise bad_request("failed to get HTTP URL content")
            data = await response.content.read(URL_FETCH_MAX_BYTES + 1)
            if len(data) > URL_FETCH_MAX_BYTES:
                raise bad_request("failed to get HTTP URL content")
            return data, response.headers.get("Content-Type")
    except (aiohttp.ClientError, TimeoutError, OSError):
        raise bad_request("failed to get HTTP URL content") from None


def document_json(record: FileRecord) -> JSON:
    data: JSON = {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.size,
    }
    if record.file_name:
        data["file_name"] = record.file_name
    if record.mime_type:
        data["mime_type"] = record.mime_type
    return data


def photo_json(record: FileRecord) -> list[JSON]:
    """PhotoSize list; the sandbox keeps one size (the original) instead of resizing."""
    return [
        {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "width": record.width or 0,
            "height": record.height or 0,
            "file_size": record.size,
        }
    ]


def file_json(record: FileRecord) -> JSON:
    data: JSON = {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.size,
    }
    if record.file_path:
        data["file_path"] = record.file_path
    return data


def assign_path(world: World, record: FileRecord) -> str:
    if record.file_path is None:
        folder = "photos" if record.kind == "photo" else "documents"
        suffix = ".jpg" if record.kind == "photo" else _suffix(record.file_name)
        record.file_path = f"{folder}/file_{len(world.file_paths) + 1}{suffix}"
        world.file_paths[record.file_path] = record
    return record.file_path


def _suffix(name: str | None) -> str:
    if name and "." in name:
        ext = name.rsplit(".", 1)[-1]
        if ext.isalnum() and len(ext) <= 8:
            return f".{ext.lower()}"
    return ""
