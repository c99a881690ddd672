"""Images beside a course (`media/…`): allowed types, size, and SVGs that cannot script or load anything.

An SVG is parsed as XML (defusedxml: no DTD, no entities, no external references) and every element
and attribute is checked against an allowlist: shapes, text, gradients, clip paths, masks, patterns,
markers and `<use>`; presentation and geometry attributes; references only to `#id`s inside the
file. Anything else (scripts, styles, animation, foreignObject, images, links, event handlers,
other namespaces, processing instructions) is refused, so nothing here depends on the media CSP.
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.sax
import xml.sax.handler
from dataclasses import dataclass
from pathlib import PurePosixPath

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

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

# -- the SVG allowlist. An SVG may be opened on its own, so it must not script or load anything.
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
SVG_ELEMENTS = frozenset(
    "svg g path rect circle ellipse line polyline polygon text tspan textPath title desc defs linearGradient "
    "radialGradient stop clipPath mask pattern symbol marker use".split()
)
SVG_ATTRIBUTES = frozenset(
    # document, structure and accessibility
    "version baseProfile width height viewBox preserveAspectRatio x y id class lang role focusable tabindex "
    "aria-label aria-labelledby aria-describedby aria-hidden aria-roledescription aria-description "
    # geometry
    "x1 y1 x2 y2 cx cy r rx ry fx fy fr d points pathLength transform dx dy rotate textLength lengthAdjust "
    "startOffset method spacing side "
    # gradients, patterns, clip paths, masks, markers
    "gradientUnits gradientTransform spreadMethod offset patternUnits patternContentUnits patternTransform "
    "clipPathUnits maskUnits maskContentUnits markerWidth markerHeight markerUnits refX refY orient href "
    # presentation
    "fill fill-opacity fill-rule stroke stroke-width stroke-opacity stroke-linecap stroke-linejoin "
    "stroke-miterlimit stroke-dasharray stroke-dashoffset opacity color display visibility overflow clip-path "
    "clip-rule mask marker-start marker-mid marker-end vector-effect shape-rendering text-rendering "
    "paint-order stop-color stop-opacity color-interpolation font-family font-size font-weight font-style "
    "font-variant font-stretch letter-spacing word-spacing text-anchor text-decoration dominant-baseline "
    "alignment-baseline baseline-shift writing-mode direction unicode-bidi".split()
)
_NAMESPACED_ATTRIBUTES = {(XLINK_NS, "href"), (XML_NS, "lang"), (XML_NS, "space")}
_TEXT_ATTRIBUTES = {"aria-label", "aria-roledescription", "aria-description", "id", "class"}  # no CSS values
_LOCAL_REFERENCE = re.compile(r"#[\w.:-]+")
_LOCAL_URL = re.compile(r"""url\(\s*(["']?)#[\w.:-]+\1\s*\)""", re.I)
_FUNCTION = re.compile(r"([a-z_-][\w-]*)\s*\(", re.I)
_ALLOWED_FUNCTIONS = {"rgb", "rgba", "hsl", "hsla", "matrix", "translate", "scale", "rotate", "skewx", "skewy"}
_STYLE_LOADS = re.compile(r"url\(\s*[\"']?(?!\s*#)|@import", re.I)
_REFERS_ELSEWHERE = "the SVG refers to another file or address (only #references inside it are allowed)"
_USE_ATTRIBUTES = 'use presentation attributes such as fill="…" instead'


class _SvgChecker(xml.sax.handler.ContentHandler):
    """Walks the SAX events of one SVG and reports everything outside the allowlist, each message once."""

    def __init__(self, text: str, where: str, problems: Problems) -> None:
        super().__init__()
        self.text, self.where, self.problems = text, where, problems
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
        self.locator: xml.sax.xmlreader.Locator | None = None
        self.reported: set[str] = set()
        self.open: list[str] = []  # local names of the open elements
        self.root_seen = False

    def report(self, line: int, message: str) -> None:
        if message not in self.reported:
            self.reported.add(message)
            self.problems.error(self.where, line, message)

    def line(self) -> int:
        return (self.locator.getLineNumber() or 1) if self.locator else 1

    def setDocumentLocator(self, locator) -> None:  # noqa: N802 (the SAX API)
        self.locator = locator

    def startPrefixMapping(self, prefix, uri) -> None:  # noqa: N802
        if uri not in (SVG_NS, XLINK_NS):
            self.report(self.line(), f"the SVG uses the namespace {uri!r}: only SVG and XLink are allowed")

    def processingInstruction(self, target, data) -> None:  # noqa: N802
        self.report(self.line(), f"the SVG contains a processing instruction <?{target} …?>, which is not allowed")

    def startElementNS(self, name, qname, attrs) -> None:  # noqa: N802
        uri, local = name
        line = self.line()
        if not self.root_seen and (uri, local) != (SVG_NS, "svg"):
            self.report(line, f'the root element must be <svg xmlns="{SVG_NS}">')
        self.root_seen = True
        self.open.append(local if uri == SVG_NS else "")
        if uri != SVG_NS:
            self.report(line, f"the SVG contains an element <{qname or local}> outside the SVG namespace")
        elif local == "style":
            self.report(line, f"the SVG contains a <style> element, which is not allowed; {_USE_ATTRIBUTES}")
        elif local not in SVG_ELEMENTS:
            self.report(line, f"the SVG contains a <{local}> element, which is not allowed")
        for attribute in attrs.getNames():
            self.check_attribute(attribute, attrs.getQNameByName(attribute), attrs.getValue(attribute), line)

    def endElementNS(self, name, qname) -> None:  # noqa: N802
        self.open.pop()

    def characters(self, content) -> None:
        if self.open and self.open[-1] == "style":  # refused anyway; say what it would have loaded
            match = _STYLE_LOADS.search(content)
            if match:
                self.report(
                    self.line() + content.count("\n", 0, match.start()), "the SVG loads a style resource from elsewhere"
                )

    def attribute_line(self, qname: str, tag_line: int) -> int:
        """The line of the attribute in the source (expat knows only where the tag starts)."""
        if self.locator is None or tag_line > len(self.line_starts):
            return tag_line
        start = self.line_starts[tag_line - 1] + (self.locator.getColumnNumber() or 0)
        match = re.compile(rf"(?<![\w:.-]){re.escape(qname)}\s*=").search(self.text, start)
        return tag_line + self.text.count("\n", start, match.start()) if match else tag_line

    def check_attribute(self, name: tuple[str | None, str], qname: str, value: str, tag_line: int) -> None:
        messages = [m for m in self.attribute_problems(name, qname, value) if m not in self.reported]
        if messages:  # the line is only looked up for a new problem
            line = self.attribute_line(qname, tag_line)
            for message in messages:
                self.report(line, message)

    @staticmethod
    def attribute_problems(name: tuple[str | None, str], qname: str, value: str) -> list[str]:
        uri, local = name
        if uri is None and local.lower().startswith("on"):
            return [f"the SVG contains an event handler attribute (on…=): {qname}"]
        if uri is None and local == "style":
            return [f"the SVG contains a style attribute, which is not allowed; {_USE_ATTRIBUTES}"]
        if (uri is None and local not in SVG_ATTRIBUTES) or (uri is not None and name not in _NAMESPACED_ATTRIBUTES):
            return [f"the SVG contains the attribute {qname}=, which is not allowed"]
        if local == "href":
            return [] if _LOCAL_REFERENCE.fullmatch(value.strip()) else [_REFERS_ELSEWHERE]
        return [] if local in _TEXT_ATTRIBUTES else _css_value_problems(qname, value)


def _css_value_problems(qname: str, value: str) -> list[str]:
    """Presentation attributes are CSS: no escapes, and no functions but colours, transforms and url(#id)."""
    messages = []
    if "\\" in value:
        messages.append(f"the SVG's attribute {qname}= contains a backslash (CSS escapes are not allowed)")
    for match in _FUNCTION.finditer(_LOCAL_URL.sub("", value)):
        function = match.group(1).lower()
        if function == "url":
            messages.append(_REFERS_ELSEWHERE)
        elif function not in _ALLOWED_FUNCTIONS:
            messages.append(f"the SVG's attribute {qname}= uses {function}(…), which is not allowed")
    return messages


def check_svg(data: bytes, where: str, problems: Problems) -> None:
    """Report every part of an SVG outside the allowlist (see the module's docstring)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        problems.error(where, 1, "an SVG must be UTF-8 text")
        return
    checker = _SvgChecker(text, where, problems)
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(xml.sax.handler.feature_namespaces, True)
    parser.setContentHandler(checker)
    try:
        parser.parse(io.BytesIO(data))
    except DefusedXmlException:  # a DTD is refused as soon as it starts, before any entity is declared
        problems.error(
            where,
            checker.line(),
            "the SVG has a <!DOCTYPE …> (DTDs and XML entities are not allowed): remove it",
        )
    except xml.sax.SAXParseException as error:
        problems.error(where, error.getLineNumber() or 1, f"the SVG is not well-formed XML: {error.getMessage()}")


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
        check_svg(data, where, problems)
    elif not data.startswith(_MAGIC[suffix]) or (suffix == ".webp" and data[8:12] != b"WEBP"):
        problems.error(where, 1, f"the file is not a {suffix[1:].upper()} image")
    if len(name) > 306:
        problems.error(where, 1, "the file name is longer than 300 characters")
    if len(problems.errors) > errors_before:
        return None
    return MediaSource(name[len("media/") :], MEDIA_TYPES[suffix], hashlib.sha256(data).hexdigest(), data)
