"""Images beside a course (`media/…`): allowed types, size, and SVGs that cannot script or load anything."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from lms.common.sourcefile import Problems

MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
MAX_MEDIA_BYTES = 2 * 1024 * 1024
_MAGIC = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
}
# An SVG may be opened on its own, so it must not script, load anything, or define entities.
_SVG_DANGERS = [
    (re.compile(r"<\s*script", re.I), "the SVG contains a <script> element"),
    (re.compile(r"[\s/\"']on[a-z]+\s*=", re.I), "the SVG contains an event handler attribute (on…=)"),
    (
        re.compile(r"\b(?:href|src)\s*=\s*[\"']?(?!\s*#)", re.I),
        "the SVG refers to another file or address (only #references inside it are allowed)",
    ),
    (re.compile(r"url\(\s*[\"']?(?!\s*#)|@import", re.I), "the SVG loads a style resource from elsewhere"),
    (re.compile(r"<!ENTITY", re.I), "the SVG declares XML entities"),
    (re.compile(r"<\s*foreignObject", re.I), "the SVG embeds HTML (foreignObject)"),
    (re.compile(r"javascript:", re.I), "the SVG contains a javascript: address"),
]


@dataclass
class MediaSource:
    path: str  # below media/, as in the URL /courses/<slug>/media/<path>
    content_type: str
    sha256: str
    data: bytes


def check_media(name: str, data: bytes, where: str, problems: Problems) -> MediaSource | None:
    """A file below media/: an image of an allowed type, size and content, or a problem."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in MEDIA_TYPES:
        problems.warn(where, 1, "ignored: media/ holds images (png, jpg, jpeg, gif, svg, webp)")
        return None
    errors_before = len(problems.errors)
    if len(data) > MAX_MEDIA_BYTES:
        problems.error(where, 1, f"the image has {len(data) / 1024 / 1024:.1f} MB; at most 2 MB are allowed")
    elif suffix == ".svg":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            problems.error(where, 1, "an SVG must be UTF-8 text")
            return None
        for pattern, message in _SVG_DANGERS:
            match = pattern.search(text)
            if match:
                problems.error(where, text.count("\n", 0, match.start()) + 1, message)
    elif not data.startswith(_MAGIC[suffix]) or (suffix == ".webp" and data[8:12] != b"WEBP"):
        problems.error(where, 1, f"the file is not a {suffix[1:].upper()} image")
    if len(name) > 306:
        problems.error(where, 1, "the file name is longer than 300 characters")
    if len(problems.errors) > errors_before:
        return None
    return MediaSource(name[len("media/") :], MEDIA_TYPES[suffix], hashlib.sha256(data).hexdigest(), data)
