"""The course editor's journey in a real browser (the issue's "Done when"): a trainer writes a course
with two lessons, quiz questions and an image, and publishes it; an employee completes version 1;
the trainer publishes version 2; the employee's completion and certificate stay on version 1; the
exported zip passes `flask courses sync --check`. axe-core checks every editor page on the way.

The editor's strings are selected by stable attributes (ids, names, form actions), not by their
visible text, which is translated separately.
"""

import re
import struct
import zlib

import pytest
from sqlalchemy import select

from lms.catalog.bundle import read_course_zip, write_course_folder
from lms.catalog.models import Course
from lms.extensions import db
from lms.learning.models import Completion
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

SLUG = "e-akte-test"
LESSONS = ("Was ist die E-Akte?", "Dokumente ablegen")
QUESTIONS = (
    ("Wo liegen die Akten?", "In der E-Akte", "Im Keller"),
    ("Wie wird ein Dokument abgelegt?", "Mit Aktenzeichen", "Auf dem Desktop"),
)


def tiny_png() -> bytes:
    """A valid 1×1 PNG (one grey pixel), so that the browser can show it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8 bits, greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


def follow(page, element) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded (a save
    that lands on the same address, too)."""
    with page.expect_navigation():
        element.click()


def certificate_version(page) -> str:
    facts = page.locator(".certificate__facts .kern-description-list-item", has_text="Kursversion")
    return facts.locator("dd").inner_text().strip()


def test_a_trainer_writes_and_publishes_a_course_an_employee_completes_it_and_keeps_version_1(
    app, page, browser, live_server, make_user, digcomp, tmp_path
):
    trainer, employee = make_user(roles=["trainer"]), make_user()
    overview = f"/authoring/{SLUG}/"

    # 1. A new course, from the editor's start page.
    browser_sign_in(page, trainer.email, DEFAULT_PASSWORD)
    page.goto("/authoring/")
    assert_accessible(page)
    follow(page, page.locator("a[href$='/authoring/new']"))
    assert_accessible(page)
    page.locator("#title").fill("E-Akte im Test")
    page.locator("#slug").fill(SLUG)
    page.locator("#summary").fill("Wie die E-Akte im Rathaus funktioniert.")
    page.locator("#language").select_option("de")
    follow(page, page.locator("form:has(#slug) button[type=submit]"))
    assert page.url == live_server + overview

    # 2. Two lessons; adding one opens its editor.
    add_lesson = page.locator(f"form[action$='/authoring/{SLUG}/lessons']")
    add_lesson.locator("#title").fill(LESSONS[0])
    follow(page, add_lesson.locator("button[type=submit]"))
    assert re.fullmatch(rf"{live_server}/authoring/{SLUG}/lessons/[^/]+", page.url)
    first_lesson = page.url
    page.goto(overview)
    add_lesson.locator("#title").fill(LESSONS[1])
    follow(page, add_lesson.locator("button[type=submit]"))
    assert re.fullmatch(rf"{live_server}/authoring/{SLUG}/lessons/[^/]+", page.url)
    assert page.url != first_lesson
    second_lesson = page.url
    assert page.locator("#title").input_value() == LESSONS[1]

    def add_question(lesson_url: str, text: str, right: str, wrong: str, *, check: bool = False) -> None:
        """The quiz builder, opened from the lesson's editor: a question with one right answer."""
        follow(page, page.locator(f"a[href$='{lesson_url.removeprefix(live_server)}/questions/new']"))
        if check:
            assert_accessible(page)
        page.locator("#question").fill(text)
        page.locator("#kind-0").check()  # exactly one answer is right
        page.locator("#answers-0-text").fill(right)
        page.locator("#answers-0-correct").check()
        page.locator("#answers-1-text").fill(wrong)
        page.locator("#explanation").fill(f"{right} ist richtig.")
        follow(page, page.locator("form:has(#question) button[type=submit]"))
        assert page.url == f"{lesson_url}#questions"
        assert page.locator(".editor-list__item a", has_text=text).count() == 1

    add_question(second_lesson, *QUESTIONS[1])

    # Lesson 1's text: the preview (a plain form post, no JavaScript needed), then the save.
    page.goto(first_lesson)
    assert_accessible(page)
    page.locator("#body").fill("## Grundlagen\n\nDie **E-Akte** ersetzt die Papierakte im Rathaus.")
    follow(page, page.locator("button[name=action][value=preview]"))
    preview = page.locator("#lesson-preview")
    assert preview.locator("h2", has_text="Grundlagen").count() == 1
    assert preview.locator("strong").inner_text() == "E-Akte"
    assert "## Grundlagen" in page.locator("#body").input_value()  # the text stays in the form
    follow(page, page.locator("button[name=action][value=save]"))
    assert page.url == first_lesson
    assert "ersetzt die Papierakte" in page.locator("#body").input_value()
    add_question(first_lesson, *QUESTIONS[0], check=True)

    page.goto(f"{overview}settings")
    assert_accessible(page)
    assert page.locator("#title").input_value() == "E-Akte im Test"

    # 3. An image with its alt text, inserted into lesson 1 (the learner sees it there, below).
    page.goto(overview)
    assert_accessible(page)
    upload = page.locator(f"form[action$='/authoring/{SLUG}/images']")
    upload.locator("input[type=file]").set_input_files(
        {"name": "ablage.png", "mimeType": "image/png", "buffer": tiny_png()}
    )
    upload.locator("#alt").fill("Ein Ordner mit dem Aktenzeichen")
    upload.locator("#lesson").select_option(label=LESSONS[0])
    follow(page, upload.locator("button[type=submit]"))
    assert page.url == f"{live_server}{overview}#images"
    assert page.locator("#images + ul code", has_text="media/ablage.png").count() == 1

    # 4. Publish version 1 with a change note, from the overview.
    def publish(note: str) -> None:
        form = page.locator(f"form[action$='/authoring/{SLUG}/publish']")
        form.locator("#note").fill(note)
        follow(page, form.locator("button[type=submit]"))
        assert page.url == live_server + overview

    publish("Erste Fassung")
    course = db.session.execute(select(Course).where(Course.slug == SLUG)).scalar_one()
    assert course.version == 1 and [lesson.title for lesson in course.lessons] == list(LESSONS)

    # 5. An employee, in a browser of their own, completes the course and gets the certificate.
    learner_context = browser.new_context(base_url=live_server, locale="de-DE")
    try:
        learner = learner_context.new_page()
        learner.set_default_timeout(10_000)
        browser_sign_in(learner, employee.email, DEFAULT_PASSWORD)
        learner.goto(f"/courses/{SLUG}/")
        assert learner.get_by_role("heading", level=1).inner_text() == "E-Akte im Test"
        follow(learner, learner.get_by_role("link", name="Kurs starten"))
        for position, (title, (_question, right, _wrong)) in enumerate(zip(LESSONS, QUESTIONS, strict=True)):
            assert learner.get_by_role("heading", level=1).inner_text() == title
            if position == 0:
                assert learner.locator(".prose strong", has_text="E-Akte").count() == 1
                image = learner.locator(".prose img[alt='Ein Ordner mit dem Aktenzeichen']")
                assert image.evaluate("img => img.complete && img.naturalWidth > 0")
            learner.get_by_label(right, exact=True).check()
            follow(learner, learner.get_by_role("button", name="Antworten prüfen"))
            if position == 0:
                assert "1 von 1 Fragen richtig beantwortet" in learner.locator("#quiz-results").inner_text()
                follow(learner, learner.get_by_role("link", name=f"Weiter: {LESSONS[1]} →"))
        assert "Herzlichen Glückwunsch" in learner.locator(".kern-alert").first.inner_text()
        follow(learner, learner.get_by_role("link", name="Bescheinigung anzeigen"))
        assert "E-Akte im Test" in learner.locator(".certificate").inner_text()
        assert certificate_version(learner) == "1"

        # 6. The trainer changes lesson 1 and publishes version 2. With JavaScript the editor has a
        # toolbar, and the preview (rendered by the server) follows the text as it is typed.
        page.goto(first_lesson)
        assert page.locator(".editor-toolbar button").count() == 4
        page.locator("#body").fill(page.locator("#body").input_value() + "\n\nEin *neuer* Satz.")
        page.locator("#lesson-preview em", has_text="neuer").wait_for(timeout=5000)
        page.locator("#body").fill(
            page.locator("#body").input_value().replace("im Rathaus", "in der ganzen Verwaltung")
        )
        follow(page, page.locator("button[name=action][value=save]"))
        assert "in der ganzen Verwaltung" in page.locator("#body").input_value()
        page.goto(overview)
        publish("Verwaltung statt Rathaus")

        # 7. The completion stays on version 1, the course is on version 2.
        db.session.expire_all()
        completion = db.session.execute(select(Completion).where(Completion.user_id == employee.id)).scalar_one()
        course = db.session.execute(select(Course).where(Course.slug == SLUG)).scalar_one()
        assert (completion.course_version, course.version) == (1, 2)
        learner.reload()
        assert certificate_version(learner) == "1"
    finally:
        learner_context.close()

    # The version history and the changes between the versions.
    page.goto(f"{overview}versions")
    assert_accessible(page)
    history = page.locator("table tbody")
    assert "Verwaltung statt Rathaus" in history.inner_text() and "Erste Fassung" in history.inner_text()
    follow(page, page.locator(f"a[href*='/authoring/{SLUG}/compare?before=1'][href*='after=2']"))
    assert_accessible(page)
    assert page.locator(".diff-lines del", has_text="im Rathaus").count() == 1
    assert page.locator(".diff-lines ins", has_text="in der ganzen Verwaltung").count() == 1
    page.goto(f"{overview}compare?before=1&after=2&view=rendered")
    assert_accessible(page)
    assert "in der ganzen Verwaltung" in page.locator(".diff-rendered").inner_text()

    page.goto("/authoring/import")
    assert_accessible(page)

    # 8. The exported zip is a course folder that `flask courses sync --check` accepts.
    response = page.request.get(f"{overview}export.zip")
    assert response.ok and response.headers["content-type"] == "application/zip"
    slug, files = read_course_zip(response.body())
    assert slug == SLUG and files["media/ablage.png"] == tiny_png()
    lesson_1 = files["01-was-ist-die-e-akte.md"].decode()
    assert "in der ganzen Verwaltung" in lesson_1 and "![Ein Ordner mit dem Aktenzeichen](media/ablage.png)" in lesson_1
    write_course_folder(slug, files, tmp_path / "export")
    result = app.test_cli_runner().invoke(args=["courses", "sync", "--check", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    # "unchanged": the zip holds exactly the published version 2.
    assert result.stdout == "0 created, 0 updated, 1 unchanged, 0 with errors (checked only, nothing written)\n"
