"""Files in a Teams answer (charts, path diagrams, fetched files), as Teams lets a bot send them.

- An image goes as a message attachment whose `contentUrl` is a `data:image/png;base64,...` URI:
  Teams shows it inline, in channels, group chats and personal chats alike, and nothing has to
  be hosted or reachable from Microsoft's cloud. Teams documents base64 images as not counted in
  the bot message size limit, but an inline image may be at most 1 MB (and 1024 x 1024 pixels);
  a bigger PNG is re-encoded with a palette (a chart has few colours; Pillow, which matplotlib
  depends on), and one still too big is not sent. Each image is a message of its own, after the
  answer's card.
- Any other file, and an image still over the limit, is named in a short note with its size and
  why it is not attached: a bot can send a file itself only in a personal chat, through a
  FileConsentCard whose upload goes to the user's OneDrive (not done here), never in a channel.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from botbuilder.schema import Attachment
from PIL import Image, UnidentifiedImageError

INLINE_LIMIT = 1 << 20
"""Largest image sent inline, in bytes (Teams: 1 MB; its base64 is not counted in the message size)."""
MAX_SIDE = 1024  # pixels, either side
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
PALETTE_COLOURS = 64


@dataclass(frozen=True)
class Outgoing:
    """What Teams receives for a reply's files: image attachments, and notes for the rest."""

    images: tuple[Attachment, ...] = ()
    notes: tuple[str, ...] = ()


def outgoing(paths: tuple[str, ...]) -> Outgoing:
    """Each file as an inline image, or a note saying why it is not attached."""
    images: list[Attachment] = []
    notes: list[str] = []
    for path in paths:
        file = Path(path)
        image = inline_image(file)
        if image is not None:
            images.append(image)
        else:
            notes.append(not_attached(file))
    return Outgoing(tuple(images), tuple(notes))


def inline_image(file: Path) -> Attachment | None:
    """The image as an attachment with a data: URI, or None (not an image, unreadable, too big)."""
    content_type = IMAGE_TYPES.get(file.suffix.lower())
    if content_type is None:
        return None
    try:
        data = file.read_bytes()
    except OSError:
        return None
    smaller = _palette_png(data) if len(data) > INLINE_LIMIT and content_type == "image/png" else data
    if smaller is None or len(smaller) > INLINE_LIMIT or not _fits(smaller):
        return None
    data = smaller
    uri = f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
    return Attachment(content_type=content_type, content_url=uri, name=file.name)


def _fits(data: bytes) -> bool:
    """The image is readable and at most MAX_SIDE pixels either way."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return max(image.size) <= MAX_SIDE
    except (UnidentifiedImageError, OSError, ValueError):
        return False


def _palette_png(data: bytes) -> bytes | None:
    """The PNG with at most PALETTE_COLOURS colours, optimised; None when it is not a readable PNG."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            reduced = image.convert("RGB").quantize(colors=PALETTE_COLOURS)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    out = io.BytesIO()
    reduced.save(out, format="PNG", optimize=True)
    return out.getvalue()


def not_attached(file: Path) -> str:
    try:
        size = file.stat().st_size
    except OSError:
        return f"{file.name} is no longer available to attach."
    why = (
        "too large to show inline in Teams"
        if file.suffix.lower() in IMAGE_TYPES
        else "Teams does not let a bot post files into a conversation"
    )
    return f"{file.name} ({_size(size)}) is not attached: {why}."


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MB"
