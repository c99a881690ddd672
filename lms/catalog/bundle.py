"""A course folder as a zip: export (`zip_course`), import of an uploaded zip (`read_course_zip`) and
writing a course folder to disk (`write_course_folder`). No database, no request.

An uploaded zip is hostile input. It is read in memory only, never extracted: every name is
checked (no absolute paths, drive letters, backslashes, `..`, empty parts, control characters;
no two names that one file system would take for the same file), symbolic links, encrypted
entries and compression methods other than Deflate are refused, and every entry is read with a
bounded read, whatever its header claims (zip bombs). Hidden files, folder entries and macOS
`__MACOSX/` junk are skipped, as `read_course_files` skips hidden files.
"""

from __future__ import annotations

import io
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from flask_babel import LazyString, force_locale

from lms.catalog.format import SLUG
from lms.catalog.media import MAX_MEDIA_BYTES, MEDIA_TYPES
from lms.common.text import has_control_characters
from lms.i18n import _l

MB = 1024 * 1024
MAX_ZIP_BYTES = 20 * MB  # the uploaded zip itself
MAX_FILES = 500  # files of the course (hidden files, folders and __MACOSX/ junk not counted)
MAX_TEXT_BYTES = 1 * MB  # uncompressed, per file other than an image (course.md, lessons, SOURCES.md)
# An image (png, jpg, jpeg, gif, svg, webp) may have up to MAX_MEDIA_BYTES (2 MB) uncompressed, as in a course folder.
MAX_TOTAL_BYTES = 50 * MB  # uncompressed, all files together
MAX_SLUG_LENGTH = 80  # docs/course-format.md

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can store: exports do not depend on the clock
_FILE_MODE = (stat.S_IFREG | 0o644) << 16
_UNIX = 3  # ZipInfo.create_system: the mode above is a Unix one, on every system that writes the zip
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # bzip2 and lzma decompress without a bound
_JUNK_FOLDER = "__MACOSX"
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, struct.error, NotImplementedError)


class BundleError(ValueError):
    """Why a zip (or a folder to write) was refused: `message` in English (for the CLI), `lazy` the
    same text translated in the current language when shown (for the browser)."""

    def __init__(self, lazy: LazyString) -> None:
        with force_locale("en"):  # the message ids are the English texts
            self.message = str(lazy)
        self.lazy = lazy
        super().__init__(self.message)


# -- export


def zip_course(slug: str, files: dict[str, bytes]) -> bytes:
    """The course as a zip of its folder (`<slug>/course.md` …). The same files give the same bytes:
    names sorted, a fixed time stamp and mode, Deflate at a fixed level, no folder entries."""
    check_slug(slug)
    check_files(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{slug}/{path}", date_time=_FIXED_TIME)
            info.external_attr, info.create_system = _FILE_MODE, _UNIX
            archive.writestr(info, files[path], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


# -- import


def read_course_zip(data: bytes, *, expected_slug: str | None = None) -> tuple[str, dict[str, bytes]]:
    """(slug, files) of a course zip, the files by path inside the course folder as
    `read_course_files` gives them. The zip holds one folder named after the course, or the
    course's files at its top (then `expected_slug` names the course). Refuses (BundleError)
    anything unsafe or over the limits; writes nothing."""
    if len(data) > MAX_ZIP_BYTES:
        raise BundleError(_l("the zip is larger than %(limit)s", limit=_megabytes(MAX_ZIP_BYTES)))
    with _opened(data) as archive:
        entries = _course_entries(archive)
        slug, prefix = _course_folder(list(entries), expected_slug)
        files, total = {}, 0
        for name, info in entries.items():
            files[name.removeprefix(prefix)] = content = _read_bounded(archive, info)
            total += len(content)
            if total > MAX_TOTAL_BYTES:
                raise _too_much_in_total()
    return slug, files


@contextmanager
def _opened(data: bytes) -> Iterator[zipfile.ZipFile]:
    """The zip, read from memory; whatever a damaged one raises becomes a BundleError."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            yield archive
    except BundleError:
        raise
    except (*_DAMAGED, ValueError) as error:  # ValueError: also a name that is not valid UTF-8
        raise BundleError(_l("the file is not a zip archive, or it is damaged")) from error


def _course_entries(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The entries that make up the course, by name, each checked from its header."""
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.orig_filename  # `filename` is cut at a NUL
        check_path(name.removesuffix("/") if info.is_dir() else name)
        if info.is_dir() or _skipped(name):
            continue
        _check_entry(info)
        if len(entries) == MAX_FILES:
            raise BundleError(_l("the zip holds more than %(limit)d files", limit=MAX_FILES))
        if name in entries:
            raise BundleError(_l("%(path)s is in the zip twice", path=_shown(name)))
        entries[name] = info
    check_collisions(entries)
    if sum(info.file_size for info in entries.values()) > MAX_TOTAL_BYTES:
        raise _too_much_in_total()
    return entries


def _skipped(name: str) -> bool:
    """Hidden files and folders (as `read_course_files` skips them), and the resource forks macOS adds."""
    parts = name.split("/")
    return parts[0] == _JUNK_FOLDER or any(part.startswith(".") for part in parts)


def _check_entry(info: zipfile.ZipInfo) -> None:
    """One file's header: no password, no link, a compression read with a bound, a size within the limit."""
    name = info.orig_filename
    if info.flag_bits & 0x1:
        raise BundleError(_l("%(path)s is encrypted; zip the course without a password", path=_shown(name)))
    if stat.S_ISLNK(info.external_attr >> 16):
        raise BundleError(_l("%(path)s is a symbolic link", path=_shown(name)))
    if info.compress_type not in _COMPRESSIONS:
        raise BundleError(
            _l("%(path)s is compressed with a method other than Deflate (the usual zip)", path=_shown(name))
        )
    if info.file_size > size_limit(name):
        raise _too_large(name)


def _course_folder(names: list[str], expected_slug: str | None) -> tuple[str, str]:
    """(slug, the prefix of the course's files in the zip): its one top folder, or nothing when
    course.md is at the top."""
    if "course.md" in names:
        if expected_slug is None:
            raise BundleError(_l("course.md is at the top of the zip: zip the course folder, named after the course"))
        return check_slug(expected_slug), ""
    tops = sorted({name.split("/")[0] for name in names})
    if len(tops) > 1:
        shown = ", ".join(_shown(top) for top in tops[:5]) + (", …" if len(tops) > 5 else "")
        raise BundleError(_l("the zip must hold one course folder, not several: %(names)s", names=shown))
    if not tops or f"{tops[0]}/course.md" not in names:
        raise BundleError(_l("the zip holds no course.md"))
    slug = check_slug(tops[0])
    if expected_slug is not None and slug != expected_slug:
        raise BundleError(
            _l("the zip holds the course %(found)s, not %(expected)s", found=slug, expected=_shown(expected_slug))
        )
    return slug, f"{slug}/"


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The entry's content, never more than its limit plus one byte read, whatever the header says."""
    limit = size_limit(info.orig_filename)
    with archive.open(info) as stream:
        content = stream.read(limit + 1)
    if len(content) > limit:
        raise _too_large(info.orig_filename)
    return content


def size_limit(path: str) -> int:
    """The most bytes the file may have: an image's limit, or a text file's."""
    return MAX_MEDIA_BYTES if PurePosixPath(path).suffix.lower() in MEDIA_TYPES else MAX_TEXT_BYTES


def _too_large(path: str) -> BundleError:
    return BundleError(_l("%(path)s is larger than %(limit)s", path=_shown(path), limit=_megabytes(size_limit(path))))


def _too_much_in_total() -> BundleError:
    return BundleError(_l("the files in the zip add up to more than %(limit)s", limit=_megabytes(MAX_TOTAL_BYTES)))


# -- writing a course folder


def write_course_folder(slug: str, files: dict[str, bytes], directory: Path, *, overwrite: bool = False) -> Path:
    """Writes the course to `directory/slug/` and returns that folder. A folder that is there and
    not empty is refused, unless `overwrite`: then it holds exactly `files` afterwards (other
    files and emptied folders removed; hidden ones such as .git left as they are). Every path is
    checked before anything is written."""
    check_slug(slug)
    check_files(files)
    folder = Path(directory) / slug
    _prepare_folder(folder, overwrite=overwrite, keep=set(files))
    inside = folder.resolve()
    for path in sorted(files):
        target = folder.joinpath(*path.split("/"))
        if not target.parent.resolve().is_relative_to(inside):  # a link on the way; _prepare_folder removes them
            raise BundleError(_l("%(path)s would be written outside the course folder", path=_shown(path)))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[path])
    return folder


def _prepare_folder(folder: Path, *, overwrite: bool, keep: set[str]) -> None:
    """An empty (or, with `overwrite`, cleared) course folder to write into."""
    if folder.is_symlink():
        raise BundleError(_l("%(path)s is a symbolic link", path=_shown(str(folder))))
    if folder.exists() and not folder.is_dir():
        raise BundleError(_l("%(path)s exists and is not a folder", path=_shown(str(folder))))
    if folder.is_dir() and any(folder.iterdir()):
        if not overwrite:
            raise BundleError(_l("%(path)s exists and is not empty", path=_shown(str(folder))))
        _remove_stale(folder, "", keep)
    folder.mkdir(parents=True, exist_ok=True)


def _remove_stale(folder: Path, relative: str, keep: set[str]) -> None:
    """Removes below `folder` every file not in `keep`, every link and the folders left empty; hidden
    files and folders stay."""
    for entry in folder.iterdir():
        path = f"{relative}{entry.name}"
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            _remove_stale(entry, f"{path}/", keep)
            if not any(entry.iterdir()):
                entry.rmdir()
        elif path not in keep or entry.is_symlink() or not entry.is_file():
            entry.unlink()


# -- names, for reading and writing alike


def check_slug(slug: str) -> str:
    """The slug, if it is a valid course name (a folder name of docs/course-format.md)."""
    if not SLUG.fullmatch(slug) or len(slug) > MAX_SLUG_LENGTH:
        raise BundleError(
            _l(
                "%(name)s is not a valid course name (lowercase letters a-z, digits and single hyphens, "
                "at most %(limit)d characters)",
                name=_shown(slug),
                limit=MAX_SLUG_LENGTH,
            )
        )
    return slug


def check_files(paths: Iterable[str]) -> None:
    """Paths of a course's files to write: each safe and not hidden, no two for the same file."""
    paths = list(paths)
    for path in paths:
        check_path(path)
        if _skipped(path):
            raise BundleError(_l("%(path)s is a hidden file; a course has none", path=_shown(path)))
    check_collisions(paths)


def check_path(path: str) -> None:
    """A relative path below its folder, with / between its parts and nothing a file system reads
    differently: no absolute path, drive letter, backslash, `.` or `..`, empty part, control character."""
    shown = _shown(path)
    if has_control_characters(path):
        raise BundleError(_l("%(path)s contains a control or text-direction character", path=shown))
    if path.startswith("/"):
        raise BundleError(_l("%(path)s is an absolute path", path=shown))
    if len(path) > 1 and path[1] == ":" and path[0].isascii() and path[0].isalpha():
        raise BundleError(_l("%(path)s starts with a drive letter", path=shown))
    if "\\" in path:
        raise BundleError(_l("%(path)s contains a backslash; use / between folders", path=shown))
    parts = path.split("/")
    if "" in parts:
        raise BundleError(_l("%(path)s has an empty part (// or a / at an end)", path=shown))
    if "." in parts or ".." in parts:
        raise BundleError(_l("%(path)s contains . or .. as a folder name", path=shown))


def check_collisions(paths: Iterable[str]) -> None:
    """No two paths that a file system ignoring case, or Unicode normalisation (macOS, Windows),
    would take for the same file, and no path that is a file and a folder at once."""
    seen: dict[str, str] = {}
    for path in paths:
        key = unicodedata.normalize("NFC", path).casefold()
        if key in seen:
            raise BundleError(
                _l(
                    "%(first)s and %(second)s would be the same file on systems that ignore case or Unicode forms",
                    first=_shown(seen[key]),
                    second=_shown(path),
                )
            )
        seen[key] = path
    for key, path in seen.items():
        parts = key.split("/")
        if any("/".join(parts[:end]) in seen for end in range(1, len(parts))):
            raise BundleError(_l("%(path)s is inside a file of the same name", path=_shown(path)))


def _shown(text: str) -> str:
    """A name for a message: control characters escaped, cut to 200 characters (it may come from a zip)."""
    shown = "".join(
        f"\\x{ord(character):02x}" if has_control_characters(character) else character for character in text
    )
    return shown if len(shown) <= 200 else f"{shown[:200]}…"


def _megabytes(size: int) -> str:
    return f"{size / MB:g} MB"
