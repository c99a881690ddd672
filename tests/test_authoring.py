"""The course editor over HTTP: drafts, lessons, the quiz builder, images, publication, versions,
review, owners, the zip round trip and the rule between files and the browser."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from sqlalchemy import func, select

from lms.authoring import services
from lms.catalog.bundle import read_course_zip, write_course_folder, zip_course
from lms.catalog.models import Course, CourseDraft, CourseVersion
from lms.extensions import db
from lms.learning.models import Completion, LessonProgress
from tests.conftest import csrf_token
from tests.test_markdown_security import PAYLOADS, assert_safe

SLUG = "e-akte-test"


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG image, made here so that no test file is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def post(client, url: str, data: dict, page: str | None = None, **kwargs):
    token = csrf_token(client.get(page or url))
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def form_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    assert match, f"no field {name}"
    return match.group(1)


@pytest.fixture
def become(client, sign_in):
    """Sign out whoever is signed in, then sign `person` in."""

    def switch(person):
        page = client.get("/learning/")
        if page.status_code == 200:
            client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
        sign_in(person)

    return switch


@pytest.fixture
def trainer(make_user, sign_in):
    person = make_user(roles=["trainer"])
    sign_in(person)
    return person


def create_course(client, slug: str = SLUG):
    response = post(
        client,
        "/authoring/new",
        {"title": "E-Akte im Bauamt", "slug": slug, "summary": "Die E-Akte kurz erklärt.", "language": "de"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def add_lesson(client, title: str, slug: str = SLUG) -> str:
    response = post(client, f"/authoring/{slug}/lessons", {"title": title}, page=f"/authoring/{slug}/")
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[-1]


def save_lesson(client, ref: str, body: str, title: str = "Grundlagen", slug: str = SLUG, base: str | None = None):
    page = client.get(f"/authoring/{slug}/lessons/{ref}").get_data(as_text=True)
    data = {"title": title, "body": body, "base": base or form_value(page, "base"), "action": "save"}
    return post(client, f"/authoring/{slug}/lessons/{ref}", data)


def add_question(client, ref: str, answers: list[tuple[str, bool]], kind: str = "single", slug: str = SLUG):
    url = f"/authoring/{slug}/lessons/{ref}/questions/new"
    page = client.get(url).get_data(as_text=True)
    data = {"question": "Was gilt?", "kind": kind, "base": form_value(page, "base"), "shuffle": "y"}
    for index, (text, correct) in enumerate(answers):
        data[f"answers-{index}-text"] = text
        if correct:
            data[f"answers-{index}-correct"] = "y"
    return post(client, url, data)


def publish(client, note: str = "Erste Fassung", slug: str = SLUG):
    return post(client, f"/authoring/{slug}/publish", {"note": note}, page=f"/authoring/{slug}/")


def workspace(slug: str) -> services.Workspace:
    db.session.expire_all()  # the requests changed the rows this session may hold
    space = services.workspace(slug)
    assert space is not None
    return space


def course_row(slug: str = SLUG) -> Course | None:
    db.session.expire_all()
    return db.session.execute(select(Course).where(Course.slug == slug)).scalar_one_or_none()


def ready_course(client) -> list[str]:
    """A draft with two lessons that each hold a question: publishable."""
    create_course(client)
    refs = [add_lesson(client, "Grundlagen"), add_lesson(client, "Im Alltag")]
    for ref in refs:
        assert add_question(client, ref, [("Richtig", True), ("Falsch", False)]).status_code == 302
    return refs


def test_a_trainer_writes_and_publishes_a_course(client, digcomp, trainer):
    refs = ready_course(client)
    assert save_lesson(client, refs[0], "## Was ist die E-Akte?\n\nDie elektronische Akte.").status_code == 302
    assert course_row() is None  # a draft only: not in the catalogue
    response = publish(client)
    assert response.status_code == 302
    course = course_row()
    assert course is not None and course.version == 1
    assert [lesson.title for lesson in course.lessons] == ["Grundlagen", "Im Alltag"]
    assert "<h2" in course.lessons[0].body_html and "elektronische Akte" in course.lessons[0].body_html
    assert [len(lesson.questions) for lesson in course.lessons] == [1, 1]
    version = db.session.execute(select(CourseVersion).where(CourseVersion.course_id == course.id)).scalar_one()
    assert (version.number, version.origin, version.author_id, version.change_note) == (
        1,
        "browser",
        trainer.id,
        "Erste Fassung",
    )
    assert client.get("/courses/").get_data(as_text=True).count(SLUG) >= 1


def test_publishing_needs_a_note_and_a_change(client, digcomp, trainer):
    ready_course(client)
    publish(client, note="")
    assert course_row() is None
    assert publish(client).status_code == 302
    response = publish(client, note="Nochmal")
    assert course_row().version == 1
    assert response.status_code == 302


def test_the_courses_xss_list_is_sanitised_in_the_preview_and_the_published_lesson(client, digcomp, trainer):
    """The payloads of the Markdown security tests, typed into the editor: the preview and the
    published lesson go through the same renderer and sanitiser as a course file."""
    refs = ready_course(client)
    page = f"/authoring/{SLUG}/lessons/{refs[0]}"
    token = csrf_token(client.get(page))
    for payload in PAYLOADS:
        preview = client.post(f"/authoring/{SLUG}/preview", data={"csrf_token": token, "body": payload})
        assert preview.status_code == 200
        assert_safe(preview.get_data(as_text=True))
    body = "\n\n".join(f"Absatz {number}.\n\n{payload}" for number, payload in enumerate(PAYLOADS))
    assert save_lesson(client, refs[0], body).status_code == 302
    assert publish(client).status_code == 302
    course = course_row()
    assert course is not None and course.version == 1
    assert_safe(course.lessons[0].body_html)
    assert f"Absatz {len(PAYLOADS) - 1}." in course.lessons[0].body_html


def test_the_quiz_builder_refuses_questions_without_a_right_answer(client, digcomp, trainer):
    create_course(client)
    ref = add_lesson(client, "Grundlagen")
    response = add_question(client, ref, [("A", False), ("B", False)])
    assert response.status_code == 200
    assert "Markieren Sie mindestens eine Antwort als richtig" in response.get_data(as_text=True)
    response = add_question(client, ref, [("A", True), ("B", True)], kind="single")
    assert "genau eine als richtig markierte Antwort" in response.get_data(as_text=True)
    response = add_question(client, ref, [("A", True)])
    assert "mindestens zwei Antworten" in response.get_data(as_text=True)
    space = workspace(SLUG)
    assert space.lessons()[0][1].questions == []
    assert add_question(client, ref, [("A", True), ("B", True), ("C", False)], kind="multiple").status_code == 302
    question = workspace(SLUG).lessons()[0][1].questions[0]
    assert question["type"] == "multiple" and [a["correct"] for a in question["answers"]] == [True, True, False]


def test_a_save_from_a_stale_form_is_refused_and_both_texts_are_kept(client, app, digcomp, trainer, make_user):
    refs = ready_course(client)
    page = client.get(f"/authoring/{SLUG}/lessons/{refs[0]}").get_data(as_text=True)
    stale_base = form_value(page, "base")
    assert save_lesson(client, refs[0], "Der Text der Kollegin.").status_code == 302
    response = save_lesson(client, refs[0], "Mein eigener Text.", base=stale_base)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Der Text der Kollegin." in html and "Mein eigener Text." in html
    assert "Der Text der Kollegin." in workspace(SLUG).lessons()[0][1].body


def test_only_owners_and_admins_edit_and_hr_reads(client, digcomp, trainer, make_user, become):
    ready_course(client)
    publish(client)
    ref = workspace(SLUG).lessons()[0][1].uid
    other = make_user(roles=["trainer"])
    become(other)
    assert client.get(f"/authoring/{SLUG}/").status_code == 200
    assert save_lesson(client, ref, "Fremder Text").status_code == 403
    assert post(client, f"/authoring/{SLUG}/publish", {"note": "x"}, page=f"/authoring/{SLUG}/").status_code == 403
    become(make_user(roles=["hr"]))
    assert client.get(f"/authoring/{SLUG}/lessons/{ref}").status_code == 200
    token = csrf_token(client.get(f"/authoring/{SLUG}/"))
    assert client.post(f"/authoring/{SLUG}/lessons", data={"csrf_token": token, "title": "x"}).status_code == 403
    become(make_user(roles=["admin"]))
    assert save_lesson(client, ref, "Vom Admin korrigiert.").status_code == 302


def test_an_unpublished_course_is_hidden_from_other_trainers(client, digcomp, trainer, make_user, become):
    create_course(client)
    become(make_user(roles=["trainer"]))
    assert client.get(f"/authoring/{SLUG}/").status_code == 404


def test_an_owner_names_co_owners_but_not_owners(client, digcomp, trainer, make_user, become):
    ready_course(client)
    colleague = make_user(roles=["trainer"])
    page = f"/authoring/{SLUG}/"
    assert post(client, page + "owners", {"user_id": colleague.id, "kind": "owner"}, page=page).status_code == 403
    assert post(client, page + "owners", {"user_id": colleague.id, "kind": "co_owner"}, page=page).status_code == 302
    become(colleague)
    assert save_lesson(client, workspace(SLUG).lessons()[0][1].uid, "Gemeinsam geschrieben.").status_code == 302


def upload(client, data: bytes, name: str = "Übersicht Akte.png", alt: str = "Die Akte im Überblick", lesson=""):
    page = f"/authoring/{SLUG}/"
    return post(
        client,
        f"/authoring/{SLUG}/images",
        {"image": (io.BytesIO(data), name), "alt": alt, "lesson": lesson},
        page=page,
        content_type="multipart/form-data",
    )


def test_an_uploaded_image_gets_a_safe_name_and_its_alt_text(client, digcomp, trainer):
    refs = ready_course(client)
    response = upload(client, png(), lesson=refs[0])
    assert response.status_code == 302
    space = workspace(SLUG)
    assert "media/uebersicht-akte.png" in space.files
    assert "![Die Akte im Überblick](media/uebersicht-akte.png)" in space.lessons()[0][1].body
    assert client.get(f"/authoring/{SLUG}/files/media/uebersicht-akte.png").data == png()
    publish(client)
    assert client.get(f"/courses/{SLUG}/media/uebersicht-akte.png").status_code == 200


@pytest.mark.parametrize(
    "data, name, alt, message",
    [
        (b"<html>not an image</html>", "bild.png", "Ein Bild", "Laden Sie ein PNG-, JPEG- oder WebP-Bild hoch"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "x.svg",
            "Bild",
            "PNG-, JPEG- oder WebP",
        ),
        (png(), "bild.png", "", "Alternativtext"),
        (png() + b"\0" * (2 * 1024 * 1024), "gross.png", "Groß", "höchstens 2 MB"),
    ],
)
def test_bad_uploads_are_refused_next_to_the_field(client, digcomp, trainer, data, name, alt, message):
    ready_course(client)
    before = dict(workspace(SLUG).files)
    response = upload(client, data, name=name, alt=alt)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert workspace(SLUG).files == before


def test_an_image_name_that_collides_is_refused(client, digcomp, trainer):
    ready_course(client)
    assert upload(client, png(), name="plan.png").status_code == 302
    response = upload(client, png(2, 2), name="Plan.png")
    assert response.status_code == 400 and "gibt es schon" in response.get_data(as_text=True)
    assert workspace(SLUG).files["media/plan.png"] == png()


def test_an_image_without_alt_text_blocks_publishing(client, digcomp, trainer):
    refs = ready_course(client)
    upload(client, png(), name="plan.png")
    save_lesson(client, refs[0], "Text.\n\n![](media/plan.png)")
    page = client.get(f"/authoring/{SLUG}/").get_data(as_text=True)
    assert "check-list__item--error" in page
    publish(client)
    assert course_row() is None


def test_version_two_keeps_completions_and_progress_of_version_one(client, digcomp, trainer, make_user):
    refs = ready_course(client)
    publish(client)
    course = course_row()
    learner = make_user()
    second = course.lessons[1]
    db.session.add(Completion(user_id=learner.id, course_id=course.id, course_version=1, score_percent=100))
    db.session.add(LessonProgress(user_id=learner.id, lesson_id=second.id))
    db.session.commit()
    lesson_ids = [lesson.id for lesson in course.lessons]
    save_lesson(client, refs[0], "Neu geschrieben.")
    post(client, f"/authoring/{SLUG}/lessons/{refs[1]}/move", {"direction": "up"}, page=f"/authoring/{SLUG}/")
    assert publish(client, "Zweite Fassung").status_code == 302
    course = course_row()
    assert course.version == 2
    assert sorted(lesson.id for lesson in course.lessons) == sorted(lesson_ids)
    assert [lesson.title for lesson in course.lessons] == ["Im Alltag", "Grundlagen"]
    completion = db.session.execute(select(Completion).where(Completion.user_id == learner.id)).scalar_one()
    assert completion.course_version == 1
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1


def test_versions_are_compared_and_restored(client, digcomp, trainer):
    refs = ready_course(client)
    save_lesson(client, refs[0], "Alter Satz.")
    publish(client)
    save_lesson(client, refs[0], "Neuer Satz.")
    publish(client, "Satz ersetzt")
    html = client.get(f"/authoring/{SLUG}/compare?before=1&after=2").get_data(as_text=True)
    assert "-Alter Satz." in html and "+Neuer Satz." in html
    rendered = client.get(f"/authoring/{SLUG}/compare?before=1&after=2&view=rendered").get_data(as_text=True)
    assert "<p>Alter Satz.</p>" in rendered and "<p>Neuer Satz.</p>" in rendered
    assert "Satz ersetzt" in client.get(f"/authoring/{SLUG}/versions").get_data(as_text=True)
    response = post(client, f"/authoring/{SLUG}/versions/1/restore", {}, page=f"/authoring/{SLUG}/versions")
    assert response.status_code == 302
    assert workspace(SLUG).lessons()[0][1].body == "Alter Satz."
    assert course_row().version == 2  # restored into the draft, not yet published
    assert client.get(f"/authoring/{SLUG}/compare?before=x").status_code == 404


def test_four_eyes_a_second_trainer_approves_and_is_recorded(app, client, digcomp, trainer, make_user, become):
    app.config["COURSE_REVIEW_REQUIRED"] = True
    try:
        ready_course(client)
        assert publish(client).status_code == 403
        response = post(client, f"/authoring/{SLUG}/review", {"note": "Bitte prüfen"}, page=f"/authoring/{SLUG}/")
        assert response.status_code == 302
        assert post(client, f"/authoring/{SLUG}/approve", {}, page=f"/authoring/{SLUG}/").status_code == 403
        reviewer = make_user(roles=["trainer"])
        become(reviewer)  # not an owner: a new course's draft is theirs to read once a review is asked
        assert post(client, f"/authoring/{SLUG}/approve", {}, page=f"/authoring/{SLUG}/").status_code == 302
    finally:
        app.config["COURSE_REVIEW_REQUIRED"] = False
    version = db.session.execute(select(CourseVersion)).scalar_one()
    assert (version.author_id, version.approved_by_id, version.change_note) == (trainer.id, reviewer.id, "Bitte prüfen")


def test_the_exported_zip_is_the_course_folder_and_syncs_to_nothing(app, client, digcomp, trainer, tmp_path):
    refs = ready_course(client)
    upload(client, png(), name="plan.png", lesson=refs[0])
    publish(client)
    response = client.get(f"/authoring/{SLUG}/export.zip")
    assert response.mimetype == "application/zip"
    slug, files = read_course_zip(response.data)
    assert slug == SLUG and "media/plan.png" in files and "course.md" in files
    write_course_folder(slug, files, tmp_path / "courses")
    result = app.test_cli_runner().invoke(args=["courses", "sync", "--check", str(tmp_path / "courses")])
    assert result.exit_code == 0 and "0 with errors" in result.output, result.output
    result = app.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path / "courses")])
    assert result.stdout.startswith("0 created, 0 updated, 1 unchanged"), result.output
    assert course_row().version == 1
    cli = app.test_cli_runner().invoke(args=["courses", "export", SLUG, str(tmp_path / "cli")])
    assert cli.exit_code == 0, cli.output
    assert (tmp_path / "cli" / SLUG / "course.md").read_bytes() == files["course.md"]


def test_a_zip_is_imported_as_a_draft_of_a_new_course(client, digcomp, trainer):
    files = {
        "course.md": b"---\ntitle: Aus dem Zip\nsummary: Kurz.\n---\n\nEinleitung.\n",
        "01-start.md": b"---\nid: start\ntitle: Start\n---\n\nText.\n",
    }
    response = post(
        client,
        "/authoring/import",
        {"archive": (io.BytesIO(zip_course("aus-dem-zip", files)), "kurs.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    draft = db.session.execute(select(CourseDraft).where(CourseDraft.slug == "aus-dem-zip")).scalar_one()
    assert [owner.user_id for owner in draft.owners] == [trainer.id]
    assert workspace("aus-dem-zip").files == files


def test_a_hostile_zip_is_refused_next_to_the_field(client, digcomp, trainer):
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("kurs/../../etc/passwd", "x")
    response = post(
        client,
        "/authoring/import",
        {"archive": (io.BytesIO(buffer.getvalue()), "b.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "kern-error" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CourseDraft)) == 0


def test_sync_never_overwrites_newer_browser_edits_without_force(app, client, digcomp, make_user, become, tmp_path):
    folder = tmp_path / "courses" / SLUG
    files = {
        "course.md": b"---\ntitle: Aus Dateien\nsummary: Kurz.\n---\n\nEinleitung.\n",
        "01-start.md": b"---\nid: start\ntitle: Start\n---\n\nText aus der Datei.\n",
    }
    write_course_folder(SLUG, files, tmp_path / "courses")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["courses", "sync", str(tmp_path / "courses")]).exit_code == 0
    become(make_user(roles=["admin"]))
    save_lesson(client, "start", "Im Browser verbessert.", title="Start")
    assert publish(client, "Im Browser").status_code == 302
    (folder / "01-start.md").write_bytes(files["01-start.md"].replace(b"Text aus", b"Anderer Text aus"))
    result = runner.invoke(args=["courses", "sync", str(tmp_path / "courses")])
    assert f"course '{SLUG}' changed both here and in the browser" in result.output
    assert "1 kept as edited in the browser" in result.output
    assert "Im Browser verbessert" in course_row().lessons[0].body_html
    result = runner.invoke(args=["courses", "sync", "--force", str(tmp_path / "courses")])
    assert "0 created, 1 updated" in result.output
    assert "Anderer Text" in course_row().lessons[0].body_html


def test_the_trainer_page_shows_only_own_courses(client, digcomp, trainer, make_course, make_user, become):
    ready_course(client)
    publish(client)
    make_course(slug="fremder-kurs", title="Fremder Kurs")
    html = client.get("/trainer/").get_data(as_text=True)
    assert "E-Akte im Bauamt" in html and "Fremder Kurs" not in html
    become(make_user(roles=["admin"]))
    html = client.get("/trainer/").get_data(as_text=True)
    assert "E-Akte im Bauamt" in html and "Fremder Kurs" in html


def test_the_editor_pages_load_in_a_fixed_number_of_statements(client, digcomp, trainer, count_queries):
    refs = ready_course(client)
    publish(client)
    counts = []
    for extra in range(2):
        with count_queries() as counted:
            client.get(f"/authoring/{SLUG}/")
            client.get(f"/authoring/{SLUG}/lessons/{refs[0]}")
        counts.append(counted.count)
        for number in range(4):
            add_lesson(client, f"Weitere Lektion {extra}-{number}")
    assert counts[0] == counts[1], counts


def test_owners_of_imported_courses_are_named_on_the_command_line(app, client, digcomp, make_user, become, tmp_path):
    files = {
        "course.md": b"---\ntitle: Aus Dateien\nsummary: Kurz.\n---\n",
        "01-start.md": b"---\ntitle: Start\n---\n\nText.\n",
    }
    write_course_folder(SLUG, files, tmp_path / "courses")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["courses", "sync", str(tmp_path / "courses")]).exit_code == 0
    person = make_user(roles=["trainer"])
    become(person)
    assert save_lesson(client, "01-start", "Mein Text.", title="Start").status_code == 403  # no owner yet
    result = runner.invoke(args=["courses", "owner", SLUG, person.email])
    assert result.exit_code == 0, result.output
    assert save_lesson(client, "01-start", "Mein Text.", title="Start").status_code == 302
    assert workspace(SLUG).lessons()[0][1].uid == "01-start"  # the documented rule: its file name
    result = runner.invoke(args=["courses", "owner", SLUG, "niemand@example.org"])
    assert result.exit_code == 1 and "no such person" in result.output


def test_an_owner_archives_a_course_and_completions_stay(client, digcomp, trainer, make_user):
    ready_course(client)
    publish(client)
    course = course_row()
    db.session.add(Completion(user_id=make_user().id, course_id=course.id, course_version=1, score_percent=90))
    db.session.commit()
    page = f"/authoring/{SLUG}/"
    assert post(client, page + "archive", {"archive": "1"}, page=page).status_code == 302
    assert course_row().archived
    assert SLUG not in client.get("/courses/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 1
    assert post(client, page + "archive", {"archive": "0"}, page=page).status_code == 302
    assert not course_row().archived


@pytest.mark.parametrize("quiz", ["? [a]\n: b", "date: 2001-02-30", "{text: [unclosed"])
def test_a_quiz_block_python_cannot_read_is_reported_not_a_crash(client, digcomp, trainer, quiz):
    refs = ready_course(client)
    assert save_lesson(client, refs[0], f"Text.\n\n```quiz\n{quiz}\n```").status_code == 302
    page = client.get(f"/authoring/{SLUG}/")
    assert page.status_code == 200 and "invalid YAML" in page.get_data(as_text=True)
    editor = client.get(f"/authoring/{SLUG}/lessons/{refs[0]}")
    assert editor.status_code == 200
    publish(client)
    assert course_row() is None


def test_naming_an_owner_is_audited_with_the_course(client, digcomp, make_user, become):
    from lms.privacy.models import AuditEntry

    admin = make_user(roles=["admin"])
    become(admin)
    ready_course(client)
    colleague = make_user(roles=["trainer"])
    page = f"/authoring/{SLUG}/"
    post(client, page + "owners", {"user_id": colleague.id, "kind": "co_owner"}, page=page)
    post(client, page + "owners", {"user_id": colleague.id, "remove": "1"}, page=page)
    entries = (
        db.session.execute(select(AuditEntry).where(AuditEntry.action == "set_course_owner").order_by(AuditEntry.id))
        .scalars()
        .all()
    )
    assert [(e.actor_id, e.subject_id, e.context["course"], e.context["role"]) for e in entries] == [
        (admin.id, colleague.id, SLUG, "co_owner"),
        (admin.id, colleague.id, SLUG, "removed"),
    ]


def test_a_draft_whose_short_name_was_taken_by_files_meanwhile_is_not_published_over_it(
    app, client, digcomp, trainer, tmp_path
):
    ready_course(client)
    files = {"course.md": b"---\ntitle: Aus Dateien\nsummary: Kurz.\n---\n", "01-a.md": b"# A\n\nText.\n"}
    write_course_folder(SLUG, files, tmp_path / "courses")
    assert app.test_cli_runner().invoke(args=["courses", "sync", str(tmp_path / "courses")]).exit_code == 0
    publish(client)
    course = course_row()
    assert (course.title, course.version) == ("Aus Dateien", 1)


def test_stale_settings_and_question_forms_are_refused_and_keep_both_texts(client, digcomp, trainer):
    refs = ready_course(client)
    settings = client.get(f"/authoring/{SLUG}/settings").get_data(as_text=True)
    stale = form_value(settings, "base")
    data = {"title": "Neuer Titel", "summary": "Kurz.", "language": "de", "intro": "Meine Einleitung.", "base": stale}
    assert post(client, f"/authoring/{SLUG}/settings", data).status_code == 302
    data |= {"title": "Anderer Titel", "intro": "Andere Einleitung."}
    response = post(client, f"/authoring/{SLUG}/settings", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Meine Einleitung." in html and "Andere Einleitung." in html
    assert workspace(SLUG).course_file().meta["title"] == "Neuer Titel"

    url = f"/authoring/{SLUG}/lessons/{refs[0]}/questions/0"
    stale = form_value(client.get(url).get_data(as_text=True), "base")
    save_lesson(client, refs[0], "Jemand anderes hat gespeichert.")
    answers = {"answers-0-text": "Ja", "answers-0-correct": "y", "answers-1-text": "Nein"}
    response = post(client, url, {"question": "Geänderte Frage?", "kind": "single", "base": stale, **answers})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Jemand anderes hat gespeichert." in html and "Geänderte Frage?" in html
    assert workspace(SLUG).lessons()[0][1].questions[0]["question"] == "Was gilt?"
