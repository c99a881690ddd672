"""`flask courses sync`: import, update in place, idempotence, all-or-nothing per course."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.catalog.importer import sync_directory
from lms.catalog.models import Course, CourseMedia, Lesson, QuizQuestion
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.learning.models import Completion, LessonProgress, QuizResponse
from tests.test_course_format import COURSE_MD, LESSON_MD, SVG, make_course

QUIZ_B = (
    "```quiz\nquestion: Zweite Frage?\nanswers:\n  - {text: x, correct: true}\n  - {text: y, correct: false}\n```\n"
)
QUIZ_C = (
    "```quiz\nquestion: Dritte Frage?\nanswers:\n  - {text: x, correct: false}\n  - {text: y, correct: true}\n```\n"
)


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def sync(app, *args):
    return app.test_cli_runner().invoke(args=["courses", "sync", *args])


def course_by_slug(slug: str) -> Course | None:
    db.session.expire_all()
    return db.session.execute(select(Course).where(Course.slug == slug)).scalar_one_or_none()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_sync_imports_a_course_with_everything_it_holds(app, digcomp, tmp_path):
    course_md = COURSE_MD.replace("competences:", "tags: [sicherheit, e-mail]\nvalid_months: 12\ncompetences:")
    make_course(
        tmp_path,
        {
            "course.md": course_md,
            "02-zweite.md": f"# Zweite\n\n![Bild](media/bild.svg)\n\n{QUIZ_B}",
            "media/bild.svg": SVG,
        },
    )
    result = sync(app, "courses")
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 created, 0 updated, 0 unchanged, 0 with errors\n"
    course = course_by_slug("testkurs")
    assert (course.title, course.version, course.valid_months, course.pass_score) == ("Testkurs", 1, 12, 80)
    assert course.source_path == str((tmp_path / "courses" / "testkurs").resolve())
    assert course.tags == ["e-mail", "sicherheit"]
    assert [(row.competence.code, row.level) for row in course.competence_rows] == [("4.2", 3)]
    assert [(lesson.key, lesson.position, lesson.title) for lesson in course.lessons] == [
        ("01-erste", 1, "Erste Lektion"),
        ("02-zweite", 2, "Zweite"),
    ]
    assert [q.question for q in course.lessons[1].questions] == ["Zweite Frage?"]
    assert 'src="/courses/testkurs/media/bild.svg"' in course.lessons[1].body_html
    assert [(m.path, m.content_type, m.data) for m in course.media] == [("bild.svg", "image/svg+xml", SVG)]


def test_a_second_sync_changes_nothing_and_writes_nothing(app, digcomp, tmp_path, count_queries):
    make_course(tmp_path)
    make_course(tmp_path, slug="noch-ein-kurs")
    assert sync(app, "courses").stdout == "2 created, 0 updated, 0 unchanged, 0 with errors\n"
    before = {c.slug: (c.id, c.version, c.updated_at) for c in db.session.execute(select(Course)).scalars()}
    with count_queries() as queries:
        result = sync(app, "courses")
    assert result.stdout == "0 created, 0 updated, 2 unchanged, 0 with errors\n"
    assert [s for s in queries.statements if not s.lstrip().upper().startswith("SELECT")] == []
    # The stored content hashes (no course is even parsed), and the published courses whose folder
    # might be gone.
    assert queries.count == 2
    db.session.expire_all()
    assert {c.slug: (c.id, c.version, c.updated_at) for c in db.session.execute(select(Course)).scalars()} == before


def test_an_update_keeps_the_course_row_and_learners_progress(app, digcomp, tmp_path, make_user):
    folder = make_course(
        tmp_path,
        {
            "02-zweite.md": f"# Zweite\n\nText\n\n{QUIZ_B}\n{QUIZ_C}",
            "03-dritte.md": "# Dritte\n\nText\n",
            "media/bild.svg": SVG,
        },
    )
    sync(app, "courses")
    course = course_by_slug("testkurs")
    course_id, lesson_ids = course.id, {lesson.key: lesson.id for lesson in course.lessons}
    kept_question, changed_question = course.lessons[1].questions
    kept_id, changed_id = kept_question.id, changed_question.id
    learner = make_user()
    db.session.add_all(
        [
            LessonProgress(user_id=learner.id, lesson_id=lesson_ids["02-zweite"]),
            QuizResponse(user_id=learner.id, question_id=kept_id, chosen=[0], is_correct=True),
            Completion(user_id=learner.id, course_id=course_id, course_version=1, score_percent=100),
        ]
    )
    db.session.commit()

    # Change: new wording of the third question and the lesson text, moved questions, one lesson gone.
    new_quiz = QUIZ_C.replace("Dritte", "Neue")
    (folder / "02-zweite.md").write_text(f"# Zweite, neu\n\nAnderer Text\n\n{new_quiz}\n{QUIZ_B}")
    (folder / "03-dritte.md").unlink()
    (folder / "course.md").write_text(COURSE_MD.replace("Testkurs", "Testkurs, zweite Fassung"))
    result = sync(app, "courses")
    assert result.stdout == "0 created, 1 updated, 0 unchanged, 0 with errors\n", result.output

    course = course_by_slug("testkurs")
    assert (course.id, course.version, course.title) == (course_id, 2, "Testkurs, zweite Fassung")
    assert {lesson.key: lesson.id for lesson in course.lessons} == {
        "01-erste": lesson_ids["01-erste"],
        "02-zweite": lesson_ids["02-zweite"],
    }
    second = course.lessons[1]
    assert second.title == "Zweite, neu" and "Anderer Text" in second.body_html
    assert [(q.question, q.position) for q in second.questions] == [("Neue Frage?", 1), ("Zweite Frage?", 2)]
    assert second.questions[1].id == kept_id and changed_id not in {q.id for q in second.questions}
    assert db.session.get(QuizQuestion, changed_id) is None
    assert db.session.get(Lesson, lesson_ids["03-dritte"]) is None
    assert count(LessonProgress) == 1 and count(QuizResponse) == 1 and count(Completion) == 1
    assert course.updated_at >= course.created_at


def test_media_tags_and_competences_follow_the_folder(app, digcomp, tmp_path):
    folder = make_course(
        tmp_path,
        {
            "course.md": COURSE_MD.replace(
                "competences:", 'tags: [alt, bleibt]\ncompetences:\n  - {id: "1.1", level: 2}'
            ),
            "media/bild.svg": SVG,
            "media/weg.svg": SVG,
        },
    )
    sync(app, "courses")
    media_id = db.session.execute(select(CourseMedia.id).where(CourseMedia.path == "bild.svg")).scalar_one()
    changed_svg = SVG.replace(b"Bild", b"Neues Bild")
    (folder / "media" / "bild.svg").write_bytes(changed_svg)
    (folder / "media" / "weg.svg").unlink()
    (folder / "course.md").write_text(
        COURSE_MD.replace("competences:", "tags: [bleibt, neu]\ncompetences:").replace("level: 3", "level: 5")
    )
    assert sync(app, "courses").exit_code == 0
    course = course_by_slug("testkurs")
    assert course.tags == ["bleibt", "neu"]
    assert [(row.competence.code, row.level) for row in course.competence_rows] == [("4.2", 5)]
    assert [(m.id, m.path, m.data) for m in course.media] == [(media_id, "bild.svg", changed_svg)]


def test_a_course_with_an_error_is_not_imported_at_all_while_good_ones_are(app, digcomp, tmp_path):
    make_course(tmp_path, slug="guter-kurs")
    bad_quiz = QUIZ_B.replace("true", "false")
    make_course(
        tmp_path,
        {"02-zweite.md": "# Zweite\n\nText\n", "03-dritte.md": f"# Dritte\n\n{bad_quiz}"},
        slug="kaputter-kurs",
    )
    result = sync(app, "courses")
    assert result.exit_code == 1
    assert result.stderr == "courses/kaputter-kurs/03-dritte.md:5: no answer is marked 'correct: true'\n"
    assert result.stdout == "1 created, 0 updated, 0 unchanged, 1 with errors\n"
    assert course_by_slug("guter-kurs") is not None and course_by_slug("kaputter-kurs") is None
    assert count(Lesson) == 1 and count(QuizQuestion) == 1


def test_a_broken_change_leaves_the_stored_course_as_it_was(app, digcomp, tmp_path):
    folder = make_course(tmp_path)
    sync(app, "courses")
    (folder / "01-erste.md").write_text(LESSON_MD.replace("Text der Lektion", "Neuer Text"))
    (folder / "02-zweite.md").write_text("---\ntitle: [kaputt\n---\nText\n")
    result = sync(app, "courses")
    assert result.exit_code == 1 and "courses/testkurs/02-zweite.md:3: invalid YAML" in result.stderr
    course = course_by_slug("testkurs")
    assert course.version == 1 and len(course.lessons) == 1 and "Text der Lektion" in course.lessons[0].body_html


def test_check_validates_without_writing(app, digcomp, tmp_path):
    make_course(tmp_path)
    make_course(tmp_path, {"01-erste.md": "# Nur ein Titel\n"}, slug="leerer-kurs")
    result = sync(app, "courses", "--check")
    assert result.exit_code == 1
    assert result.stderr == "courses/leerer-kurs/01-erste.md:1: the lesson is empty\n"
    assert result.stdout == "1 created, 0 updated, 0 unchanged, 1 with errors (checked only, nothing written)\n"
    assert count(Course) == 0


def test_check_reports_problems_of_unchanged_courses_too(app, digcomp, tmp_path):
    make_course(tmp_path, {"course.md": COURSE_MD.replace("competences:", "autor: Erika\ncompetences:")})
    assert sync(app, "courses").exit_code == 0
    result = sync(app, "courses", "--check")
    assert result.exit_code == 0
    assert result.stderr == "courses/testkurs/course.md:4: warning: unknown key 'autor' in course.md (ignored)\n"
    assert result.stdout == "0 created, 0 updated, 1 unchanged, 0 with errors (checked only, nothing written)\n"


def test_problems_are_printed_sorted_by_file_and_line(app, digcomp, tmp_path):
    make_course(tmp_path, {"02-zweite.md": "Ohne Titel\n", "01-erste.md": lesson_with_unknown_keys()}, slug="b-kurs")
    make_course(tmp_path, {"01-erste.md": None}, slug="a-kurs")
    result = sync(app, "courses")
    assert result.stderr.splitlines() == [
        "courses/a-kurs/course.md:1: the course has no lessons: add 01-….md files beside course.md",
        "courses/b-kurs/01-erste.md:2: warning: unknown key 'z' in a lesson's front matter (ignored)",
        "courses/b-kurs/01-erste.md:4: warning: unknown key 'a' in a lesson's front matter (ignored)",
        "courses/b-kurs/02-zweite.md:1: the lesson has no title: add 'title:' to its front matter or start it "
        "with a '# ' heading",
    ]


def lesson_with_unknown_keys() -> str:
    return "---\nz: 1\ntitle: Eins\na: 2\n---\nText\n"


def test_a_progress_bar_goes_to_stderr_when_there_are_many_courses(app, digcomp, tmp_path):
    for number in range(12):
        make_course(tmp_path, slug=f"kurs-{number}")
    result = sync(app, "courses")
    assert result.exit_code == 0
    assert result.stdout == "12 created, 0 updated, 0 unchanged, 0 with errors\n"
    assert "Courses" in result.stderr


def test_without_the_framework_every_course_with_competences_says_what_to_do(app, database, tmp_path):
    make_course(tmp_path)
    result = sync(app, "courses")
    assert result.exit_code == 1
    assert result.stderr == (
        "courses/testkurs/course.md:4: the competency framework digcomp-2.2 is not loaded: "
        "run `flask skills load-framework` first\n"
    )


def test_a_missing_directory_is_an_error(app, database, tmp_path):
    result = sync(app, "gibt-es-nicht")
    assert result.exit_code != 0 and "gibt-es-nicht: no such folder" in result.output


def test_sync_directory_flushes_and_leaves_the_commit_to_the_caller(database, digcomp, tmp_path):
    make_course(tmp_path)
    result = sync_directory(Path("courses"))
    assert (result.created, result.failed) == (1, 0)
    db.session.rollback()
    assert count(Course) == 0


def test_the_shipped_courses_pass_check(app, digcomp, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    result = sync(app, "--check")
    assert result.exit_code == 0, result.output
    # No problem at all, not even a warning: only the progress bar's label (not a terminal here).
    assert [line for line in result.stderr.splitlines() if line.strip()] in ([], ["Courses"]), result.stderr
    assert result.stdout.endswith(" 0 with errors (checked only, nothing written)\n")


def test_the_shipped_courses_are_a_curriculum_with_sources_and_question_pools():
    """Issue 11: 17 courses or more, each with its SOURCES.md; every quiz lesson (of the course and
    of its variants) holds more questions than an attempt asks, each with an explanation."""
    from lms.catalog.format import FrameworkInfo, parse_course, read_course_files
    from lms.common.sourcefile import Problems

    folders = sorted(path for path in (PROJECT_ROOT / "courses").iterdir() if path.is_dir())
    assert len(folders) >= 17
    codes = {f"{area}.{n}" for area in range(1, 6) for n in range(1, 7)}
    framework = FrameworkInfo("digcomp-2.2", {code: i for i, code in enumerate(sorted(codes))}, levels=set(range(1, 9)))
    for folder in folders:
        assert (folder / "SOURCES.md").is_file(), folder.name
        problems = Problems()
        course = parse_course(folder, read_course_files(folder), framework, problems)
        assert course is not None, [str(p) for p in problems.items]
        for lesson in course.lessons + [item for variant in course.variants for item in variant.lessons]:
            assert lesson.questions, f"{folder.name}/{lesson.key}: no quiz"
            assert lesson.asked < len(lesson.questions), f"{folder.name}/{lesson.key}: no question pool"
            assert all(question.explanation for question in lesson.questions), f"{folder.name}/{lesson.key}"


def test_the_shipped_courses_import_and_a_second_sync_is_unchanged(app, digcomp):
    first = sync(app)
    assert first.exit_code == 0, first.output
    shipped = len([path for path in (PROJECT_ROOT / "courses").iterdir() if path.is_dir()])
    assert first.stdout == f"{shipped} created, 0 updated, 0 unchanged, 0 with errors\n"
    assert sync(app).stdout == f"0 created, 0 updated, {shipped} unchanged, 0 with errors\n"
    phishing = course_by_slug("phishing-erkennen")
    assert phishing.valid_months == 12 and phishing.source_path == "courses/phishing-erkennen"
    assert [m.path for m in phishing.media] == ["phishing-mail-merkmale.svg"]


def test_a_course_whose_folder_is_gone_is_reported_and_archived_only_when_asked(
    app, digcomp, tmp_path, client, make_user, sign_in
):
    import shutil

    from lms.common.dates import utcnow

    make_course(tmp_path)
    make_course(tmp_path, slug="bleibt")
    assert sync(app, "courses").exit_code == 0
    learner = make_user()
    course = course_by_slug("testkurs")
    db.session.add(
        Completion(user_id=learner.id, course_id=course.id, course_version=1, completed_at=utcnow(), score_percent=100)
    )
    db.session.commit()
    shutil.rmtree(tmp_path / "courses" / "testkurs")
    gone = f"{(tmp_path / 'courses' / 'testkurs').resolve()}:1: warning: the course folder is gone"

    reported = sync(app, "courses")
    assert reported.exit_code == 0 and f"{gone}; the course is still published" in reported.stderr
    assert not course_by_slug("testkurs").archived
    checked = sync(app, "courses", "--check", "--archive-missing")  # a check writes nothing
    assert "still published" in checked.stderr and not course_by_slug("testkurs").archived

    archived = sync(app, "courses", "--archive-missing")
    assert archived.exit_code == 0 and f"{gone}; the course is archived" in archived.stderr
    assert course_by_slug("testkurs").archived and not course_by_slug("bleibt").archived
    assert sync(app, "courses").stderr == ""  # an archived course is not reported again

    sign_in(learner)
    catalogue = client.get("/courses/").get_data(as_text=True)
    assert "/courses/testkurs/" not in catalogue and "/courses/bleibt/" in catalogue  # out of the catalogue
    assert client.get("/courses/testkurs/certificate").status_code == 200  # the certificate stays
    assert client.get("/courses/testkurs/").status_code == 404


def test_a_lesson_with_an_id_keeps_its_identity_and_progress_when_its_file_is_renamed(
    app, digcomp, tmp_path, make_user
):
    first = '---\nid: "grundlagen"\ntitle: "Grundlagen"\n---\n\nText.\n'
    second = '---\nid: "vertiefung"\ntitle: "Vertiefung"\n---\n\nMehr Text.\n'
    folder = make_course(tmp_path, {"01-erste.md": first, "02-zweite.md": second})
    sync(app, "courses")
    ids = {lesson.uid: lesson.id for lesson in course_by_slug("testkurs").lessons}
    learner = make_user()
    db.session.add(LessonProgress(user_id=learner.id, lesson_id=ids["vertiefung"]))
    db.session.commit()

    # The two files swap their names (and so their order): each stays its own lesson.
    (folder / "01-erste.md").write_text(second)
    (folder / "02-zweite.md").write_text(first)
    result = sync(app, "courses")
    assert result.exit_code == 0, result.output
    lessons = course_by_slug("testkurs").lessons
    assert [(lesson.key, lesson.uid, lesson.title) for lesson in lessons] == [
        ("01-erste", "vertiefung", "Vertiefung"),
        ("02-zweite", "grundlagen", "Grundlagen"),
    ]
    assert {lesson.uid: lesson.id for lesson in lessons} == ids
    assert db.session.get(LessonProgress, (learner.id, ids["vertiefung"])) is not None


@pytest.mark.parametrize(
    ("lesson_id", "message"),
    [
        ('"Mit Leer"', "'id' must be lowercase letters a-z, digits and single hyphens, at most 40 characters"),
        ('"eins"', "the id 'eins' is already the id of 01-erste.md"),
    ],
)
def test_a_bad_or_repeated_lesson_id_is_an_error_at_its_line(app, digcomp, tmp_path, lesson_id, message):
    make_course(
        tmp_path,
        {
            "01-erste.md": '---\nid: "eins"\ntitle: "Eins"\n---\n\nText.\n',
            "02-zweite.md": f'---\nid: {lesson_id}\ntitle: "Zwei"\n---\n\nText.\n',
        },
    )
    result = sync(app, "courses", "--check")
    assert result.exit_code == 1 and f"courses/testkurs/02-zweite.md:2: {message}" in result.stderr
