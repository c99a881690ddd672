"""Course zips (lms/catalog/bundle.py): a deterministic export, an import that refuses every unsafe or
oversized zip with a message naming why, and writing a course folder that never leaves it."""

from __future__ import annotations

import io
import random
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from lms.catalog import bundle
from lms.catalog.bundle import BundleError, read_course_zip, write_course_folder, zip_course
from lms.catalog.format import content_hash, read_course_files

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "courses" / "phishing-erkennen"
COURSE = {
    "course.md": b'---\ntitle: "T"\nsummary: "S"\n---\nIntro\n',
    "01-a.md": "# Erste Lektion\n\nGr\u00fc\u00dfe\n".encode(),
    "SOURCES.md": b"- BSI\n",
    "media/bild.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    "einfache-sprache/01-a.md": b"# Leicht\n",
}


def craft(entries: list[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip with exactly these entries, in this order (names or prepared ZipInfos)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def course_zip(*extra: tuple[str | zipfile.ZipInfo, bytes], top: str = "kurs/") -> bytes:
    """A valid course zip (folder `kurs/`) plus extra entries."""
    return craft([(f"{top}{path}", data) for path, data in COURSE.items()] + list(extra))


def refused(data: bytes, fragment: str, **kwargs) -> BundleError:
    with pytest.raises(BundleError) as caught:
        read_course_zip(data, **kwargs)
    assert fragment in caught.value.message, caught.value.message
    return caught.value


# -- round trips


def test_zip_and_read_give_back_the_same_files():
    assert read_course_zip(zip_course("kurs", COURSE)) == ("kurs", COURSE)


def test_zipping_twice_gives_the_same_bytes_whatever_the_order():
    first = zip_course("kurs", COURSE)
    assert zip_course("kurs", dict(reversed(list(COURSE.items())))) == first
    infos = zipfile.ZipFile(io.BytesIO(first)).infolist()
    assert [info.filename for info in infos] == [f"kurs/{path}" for path in sorted(COURSE)]
    assert {(info.date_time, info.external_attr >> 16, info.compress_type) for info in infos} == {
        ((1980, 1, 1, 0, 0, 0), stat.S_IFREG | 0o644, zipfile.ZIP_DEFLATED)
    }


def test_a_shipped_course_survives_zip_read_and_write(tmp_path):
    files = read_course_files(SHIPPED)
    assert "course.md" in files and any(path.startswith("media/") for path in files)
    slug, read = read_course_zip(zip_course(SHIPPED.name, files), expected_slug=SHIPPED.name)  # type: ignore[arg-type]
    assert (slug, read) == (SHIPPED.name, files)
    folder = write_course_folder(slug, read, tmp_path)
    assert folder == tmp_path / SHIPPED.name
    assert read_course_files(folder) == files
    assert content_hash(read_course_files(folder)) == content_hash(files)


def test_a_zip_of_the_files_without_their_folder_takes_the_expected_slug():
    data = craft(list(COURSE.items()))
    assert read_course_zip(data, expected_slug="neuer-kurs") == ("neuer-kurs", COURSE)


def test_folders_hidden_files_and_macos_junk_are_skipped():
    data = course_zip(
        ("kurs/", b""),
        ("kurs/media/", b""),
        ("kurs/.DS_Store", b"junk"),
        ("kurs/.git/config", b"[core]"),
        ("kurs/media/.thumbs/x.png", b"junk"),
        ("__MACOSX/kurs/._course.md", b"junk"),
        ("__MACOSX/kurs/media/notiz.txt", b"junk"),
        ("__MACOSX/", b""),
    )
    assert read_course_zip(data) == ("kurs", COURSE)


def test_a_zip_of_the_limits_is_read():
    files = {
        "course.md": b"x" * bundle.MAX_TEXT_BYTES,
        "media/a.png": b"\x89PNG\r\n\x1a\n" + bytes(bundle.MAX_MEDIA_BYTES - 8),
    }
    assert read_course_zip(zip_course("kurs", files))[1] == files


def test_the_message_is_english_and_the_lazy_text_the_same_outside_a_request():
    error = refused(b"not a zip", "not a zip archive")
    assert str(error) == error.message == str(error.lazy)
    assert "%(" not in error.message


def test_the_message_stays_english_when_the_app_speaks_german(monkeypatch):
    from babel.support import NullTranslations
    from flask import Flask
    from flask_babel import Babel, Domain, force_locale, get_locale

    class German(NullTranslations):
        def ugettext(self, message):
            return f"de: {message}"

    def translations(domain):
        return German() if str(get_locale()) == "de" else NullTranslations()

    monkeypatch.setattr(Domain, "get_translations", translations)
    app = Flask(__name__)
    Babel(app)
    with app.app_context(), force_locale("de"):
        error = refused(course_zip(top="Kurs/"), "Kurs is not a valid course name (lowercase letters")
        shown = str(error.lazy)
    assert shown == f"de: {error.message}"


# -- refusals: the zip as a whole


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "not a zip archive, or it is damaged"),
        (b"PK\x03\x04 this is not really a zip", "not a zip archive, or it is damaged"),
        (b"%PDF-1.7\n" + bytes(1000), "not a zip archive, or it is damaged"),
        (course_zip()[:-30], "not a zip archive, or it is damaged"),
    ],
)
def test_what_is_not_a_zip_is_refused(data, fragment):
    refused(data, fragment)


def test_a_damaged_entry_is_refused():
    data = bytearray(craft([("kurs/course.md", b"hello " * 1000)]))
    data[60] ^= 0xFF  # in the compressed data of the first entry
    refused(bytes(data), "not a zip archive, or it is damaged")


def test_random_damage_gives_a_bundle_error_or_a_course_never_anything_else():
    original = zip_course("kurs", COURSE)
    generator = random.Random(20240611)
    for _ in range(400):
        data = bytearray(original)
        for _ in range(generator.randint(1, 4)):
            data[generator.randrange(len(data))] = generator.randrange(256)
        try:
            slug, files = read_course_zip(bytes(data))
        except BundleError:
            continue
        assert slug and "course.md" in files


def test_an_upload_over_the_size_limit_is_refused():
    refused(bytes(20 * 1024 * 1024 + 1), "the zip is larger than 20 MB")


def test_a_valid_zip_one_byte_over_the_size_limit_is_refused(monkeypatch):
    data = course_zip()
    monkeypatch.setattr(bundle, "MAX_ZIP_BYTES", len(data) - 1)
    refused(data, "the zip is larger than")


def test_more_files_than_the_limit_are_refused():
    many = [(f"kurs/media/{index:03}.svg", b"<svg/>") for index in range(bundle.MAX_FILES)]
    refused(course_zip(*many), "the zip holds more than 500 files")


def test_exactly_the_limit_of_files_is_read():
    many = [(f"kurs/media/{index:03}.svg", b"<svg/>") for index in range(bundle.MAX_FILES - len(COURSE))]
    assert len(read_course_zip(course_zip(*many))[1]) == bundle.MAX_FILES


def patched(data: bytes, field: dict[bytes, int], value: int, *, size: str = "<I", entry: int | None = None) -> bytes:
    """The zip with one field of every entry's (or only the `entry`th entry's) headers set to `value`;
    `field` gives the field's offset per header signature (local, central)."""
    data = bytearray(data)
    for signature, offset in field.items():
        found, start = 0, data.find(signature)
        while start != -1:
            if entry is None or found == entry:
                struct.pack_into(size, data, start + offset, value)
            found, start = found + 1, data.find(signature, start + 4)
    return bytes(data)


LOCAL, CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
FLAGS = {LOCAL: 6, CENTRAL: 8}
UNCOMPRESSED_SIZE = {LOCAL: 22, CENTRAL: 24}


def test_an_encrypted_entry_is_refused():
    data = craft([("kurs/course.md", b"x"), ("kurs/01-a.md", b"secret")])
    refused(patched(data, FLAGS, 0x1, size="<H", entry=1), "kurs/01-a.md is encrypted")


def test_a_name_with_a_nul_is_refused_though_zipfile_cuts_it_there():
    data = craft([("kurs/course.md", b"x"), ("kurs/a_.md", b"x")]).replace(b"kurs/a_.md", b"kurs/a\x00.md")
    refused(data, "kurs/a\\x00.md contains a control or text-direction character")


@pytest.mark.parametrize("compression", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_compression_without_a_bounded_read_is_refused(compression):
    data = craft([("kurs/course.md", b"x" * 100)], compression)
    refused(data, "kurs/course.md is compressed with a method other than Deflate")


def test_a_symbolic_link_is_refused():
    link = zipfile.ZipInfo("kurs/media/bild.svg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = craft([("kurs/course.md", b"x"), (link, b"/etc/passwd")])
    refused(data, "kurs/media/bild.svg is a symbolic link")


# -- refusals: sizes and zip bombs


def test_a_text_file_over_its_limit_is_refused():
    refused(course_zip(("kurs/02-b.md", b"a" * (bundle.MAX_TEXT_BYTES + 1))), "kurs/02-b.md is larger than 1 MB")


def test_an_image_over_its_limit_is_refused():
    big = b"\x89PNG\r\n\x1a\n" + bytes(bundle.MAX_MEDIA_BYTES)
    refused(course_zip(("kurs/media/gross.PNG", big)), "kurs/media/gross.PNG is larger than 2 MB")


def test_a_bomb_whose_header_claims_a_small_size_is_refused():
    bomb = craft([("kurs/course.md", b"0" * (bundle.MAX_TEXT_BYTES * 3))])
    assert len(bomb) < 10_000  # highly compressible
    data = patched(bomb, UNCOMPRESSED_SIZE, 100)
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].file_size == 100
    refused(data, "not a zip archive, or it is damaged")  # zipfile stops at the claimed size; the CRC differs


def test_a_read_stops_one_byte_after_the_limit_whatever_the_header_says(monkeypatch):
    """zipfile itself stops at the size in the header; the read is bounded all the same."""
    archive = zipfile.ZipFile(io.BytesIO(craft([("kurs/course.md", b"0" * (bundle.MAX_TEXT_BYTES * 3))])))
    requested = []
    original = zipfile.ZipExtFile.read

    def counted(self, n=-1):
        requested.append(n)
        return original(self, n)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counted)
    with pytest.raises(BundleError, match="kurs/course.md is larger than 1 MB"):
        bundle._read_bounded(archive, archive.infolist()[0])  # past the header check, as if it had claimed less
    assert requested == [bundle.MAX_TEXT_BYTES + 1]


def test_a_header_claiming_a_size_over_the_limit_is_refused_before_reading():
    data = patched(craft([("kurs/course.md", b"x")]), UNCOMPRESSED_SIZE, bundle.MAX_TEXT_BYTES + 1)
    refused(data, "kurs/course.md is larger than 1 MB")


def test_files_over_the_total_limit_are_refused():
    count = bundle.MAX_TOTAL_BYTES // bundle.MAX_MEDIA_BYTES + 1
    images = [(f"kurs/media/{index:02}.png", bytes(bundle.MAX_MEDIA_BYTES)) for index in range(count)]
    data = course_zip(*images)
    assert len(data) < bundle.MAX_ZIP_BYTES
    refused(data, "the files in the zip add up to more than 50 MB")


# -- refusals: names


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../x", "../x contains . or .. as a folder name"),
        ("kurs/../../x", "kurs/../../x contains . or .. as a folder name"),
        ("kurs/./x.md", "kurs/./x.md contains . or .. as a folder name"),
        ("kurs/..", "kurs/.. contains . or .. as a folder name"),
        ("/etc/passwd", "/etc/passwd is an absolute path"),
        ("C:/x", "C:/x starts with a drive letter"),
        ("c:x", "c:x starts with a drive letter"),
        ("kurs\\01-b.md", "contains a backslash"),
        ("kurs/a\\..\\..\\x", "contains a backslash"),
        ("kurs//x.md", "kurs//x.md has an empty part"),
        ("kurs/\x1b[31mrot.md", "kurs/\\x1b[31mrot.md contains a control or text-direction character"),
        ("kurs/gpj.\u202emd", "contains a control or text-direction character"),
        ("kurs/a\nb.md", "kurs/a\\x0ab.md contains a control"),
    ],
)
def test_an_unsafe_name_is_refused(name, fragment):
    refused(course_zip((name, b"x")), fragment)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../", ".. contains . or .. as a folder name"),
        ("kurs/../", "kurs/.. contains . or .. as a folder name"),
        ("/tmp/", "/tmp is an absolute path"),
        (".hidden/../../x", ".hidden/../../x contains . or .."),
        ("__MACOSX/../x", "__MACOSX/../x contains . or .."),
    ],
)
def test_an_unsafe_name_is_refused_even_where_it_would_be_skipped(name, fragment):
    """Folder entries, hidden files and __MACOSX/ are skipped only once their names are safe."""
    refused(course_zip((name, b"")), fragment)


def test_a_message_shows_at_most_200_characters_of_a_name():
    error = refused(course_zip(("/" + "a" * 1000, b"x")), "is an absolute path")
    assert len(error.message) < 250 and "…" in error.message


def test_the_same_name_twice_is_refused():
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = course_zip(("kurs/01-a.md", b"other"))
    refused(data, "kurs/01-a.md is in the zip twice")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("kurs/01-a.md", "kurs/01-A.md"),
        ("kurs/media/bild.svg", "kurs/MEDIA/bild.svg"),
        ("kurs/media/\u00fcbersicht.png", "kurs/media/u\u0308bersicht.png"),  # NFC and NFD
    ],
)
def test_names_that_a_file_system_takes_for_one_file_are_refused(first, second):
    extra = [(first, b"x")] if first not in {f"kurs/{path}" for path in COURSE} else []
    refused(course_zip(*extra, (second, b"y")), f"{first} and {second} would be the same file")


def test_a_file_and_a_folder_of_the_same_name_are_refused():
    refused(course_zip(("kurs/media", b"x")), "kurs/media/bild.svg is inside a file of the same name")


# -- refusals: the course folder


def test_several_top_folders_are_refused():
    refused(course_zip(("anderer-kurs/course.md", b"x")), "one course folder, not several: anderer-kurs, kurs")


def test_a_file_beside_the_course_folder_is_refused():
    refused(course_zip(("liesmich.txt", b"x")), "not several: kurs, liesmich.txt")


def test_course_md_at_the_top_needs_the_expected_slug():
    refused(craft(list(COURSE.items())), "course.md is at the top of the zip")


def test_a_slug_other_than_the_expected_is_refused_naming_both():
    refused(course_zip(), "the zip holds the course kurs, not anderer-kurs", expected_slug="anderer-kurs")


@pytest.mark.parametrize("top", ["Kurs/", "kurs--neu/", "kurs_neu/", "k\u00fcrs/", "k" * 81 + "/"])
def test_a_folder_that_is_not_a_valid_course_name_is_refused(top):
    refused(course_zip(top=top), f"{top[:-1]} is not a valid course name")


def test_an_invalid_expected_slug_is_refused():
    refused(craft(list(COURSE.items())), "Neu is not a valid course name", expected_slug="Neu")


@pytest.mark.parametrize(
    "entries",
    [
        [],
        [("kurs/", b"")],
        [("kurs/01-a.md", b"x")],
        [("kurs/inner/course.md", b"x")],
        [("kurs/.course.md", b"x")],
        [("__MACOSX/kurs/course.md", b"x")],
        [("kurs/COURSE.md", b"x")],
    ],
)
def test_a_zip_without_course_md_is_refused(entries):
    refused(craft(entries), "the zip holds no course.md")


# -- writing a course folder


def test_writing_creates_the_folder_and_its_sub_folders(tmp_path):
    folder = write_course_folder("kurs", COURSE, tmp_path / "neu")
    assert folder == tmp_path / "neu" / "kurs"
    assert read_course_files(folder) == COURSE


def test_an_empty_folder_is_written_into(tmp_path):
    (tmp_path / "kurs").mkdir()
    assert read_course_files(write_course_folder("kurs", COURSE, tmp_path)) == COURSE


@pytest.mark.parametrize("existing", ["course.md", ".git/config"])
def test_a_folder_that_is_not_empty_is_not_overwritten(tmp_path, existing):
    (tmp_path / "kurs" / existing).parent.mkdir(parents=True)
    (tmp_path / "kurs" / existing).write_bytes(b"old")
    with pytest.raises(BundleError, match="kurs exists and is not empty"):
        write_course_folder("kurs", COURSE, tmp_path)
    assert (tmp_path / "kurs" / existing).read_bytes() == b"old"
    assert not (tmp_path / "kurs" / "01-a.md").exists()


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    (tmp_path / "kurs").write_bytes(b"x")
    with pytest.raises(BundleError, match="kurs exists and is not a folder"):
        write_course_folder("kurs", COURSE, tmp_path, overwrite=True)


def test_a_link_as_the_course_folder_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "kurs").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BundleError, match="kurs is a symbolic link"):
        write_course_folder("kurs", COURSE, tmp_path / "out", overwrite=True)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_overwrite_leaves_exactly_the_files_and_keeps_hidden_ones(tmp_path):
    folder = tmp_path / "kurs"
    for path, data in {
        "course.md": b"old",
        "99-alt.md": b"stale",
        "alt/nur-alt.md": b"stale",
        "media/alt.png": b"stale",
        ".git/HEAD": b"ref: main",
        "media/.keep": b"",
    }.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    write_course_folder("kurs", COURSE, tmp_path, overwrite=True)
    assert read_course_files(folder) == COURSE
    assert (folder / ".git" / "HEAD").read_bytes() == b"ref: main"
    assert (folder / "media" / ".keep").exists()
    assert not (folder / "alt").exists()


def test_overwrite_replaces_links_instead_of_writing_through_them(tmp_path):
    outside = tmp_path / "outside"
    (outside / "media").mkdir(parents=True)
    (outside / "course.md").write_bytes(b"secret")
    folder = tmp_path / "out" / "kurs"
    folder.mkdir(parents=True)
    (folder / "course.md").symlink_to(outside / "course.md")
    (folder / "media").symlink_to(outside / "media", target_is_directory=True)
    write_course_folder("kurs", COURSE, tmp_path / "out", overwrite=True)
    assert (outside / "course.md").read_bytes() == b"secret"
    assert list((outside / "media").iterdir()) == []
    assert not (folder / "course.md").is_symlink() and not (folder / "media").is_symlink()
    assert read_course_files(folder) == COURSE


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("../x.md", "../x.md contains . or .. as a folder name"),
        ("media/../../x.md", "contains . or .. as a folder name"),
        ("/tmp/x.md", "/tmp/x.md is an absolute path"),
        ("C:/x.md", "starts with a drive letter"),
        ("a\\..\\x.md", "contains a backslash"),
        ("media//x.png", "has an empty part"),
        (".git/hooks/post-checkout", ".git/hooks/post-checkout is a hidden file"),
        ("a\x00.md", "contains a control or text-direction character"),
        ("01-A.md", "01-a.md and 01-A.md would be the same file"),
    ],
)
def test_writing_an_unsafe_path_is_refused_and_nothing_is_written(tmp_path, path, fragment):
    with pytest.raises(BundleError) as caught:
        write_course_folder("kurs", {**COURSE, path: b"x"}, tmp_path / "out", overwrite=True)
    assert fragment in caught.value.message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("slug", ["../kurs", "Kurs", "", "a/b", "k" * 81])
def test_writing_under_an_invalid_slug_is_refused(tmp_path, slug):
    with pytest.raises(BundleError, match="is not a valid course name"):
        write_course_folder(slug, COURSE, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("slug", "files", "fragment"),
    [
        ("Kurs", COURSE, "Kurs is not a valid course name"),
        ("kurs", {**COURSE, "../x": b""}, "../x contains . or .."),
        ("kurs", {**COURSE, ".env": b""}, ".env is a hidden file"),
    ],
)
def test_zipping_refuses_what_reading_would_refuse(slug, files, fragment):
    with pytest.raises(BundleError) as caught:
        zip_course(slug, files)
    assert fragment in caught.value.message
