"""Assessments worth their evidence: question types, pools, shuffled answers, feedback that
teaches without giving the answers away, the final check, variants (docs/course-format.md)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.catalog.models import Course
from lms.extensions import db
from lms.learning import attempts
from lms.learning.models import Completion, QuizAttempt
from tests.conftest import csrf_token
from tests.test_course_format import LESSON_MD, in_tmp_path, lesson, make_course, parse  # noqa: F401

ATTEMPT = re.compile(r'name="attempt" value="(\d+)"')


def quiz(question: str, right: int = 1, wrong: int = 2, extra: str = "") -> str:
    answers = "".join(f'  - {{text: "R{i} {question}", correct: true}}\n' for i in range(right))
    answers += "".join(f'  - {{text: "W{i} {question}", correct: false}}\n' for i in range(wrong))
    return f'```quiz\nquestion: "{question}"\nanswers:\n{answers}explanation: "Weil {question}"\n{extra}```\n'


def pool_lesson(name: str, questions: int, draw: int) -> str:
    return lesson("Text.\n\n" + "".join(quiz(f"{name} {i}?") for i in range(questions)), f"title: {name}\ndraw: {draw}")


# --- the format -------------------------------------------------------------------------------


def test_types_pools_shuffle_and_final_check_are_read(tmp_path):
    course_md = (
        '---\ntitle: "Testkurs"\nsummary: "Zum Testen."\nfinal_check: {draw: 3, pass_score: 75}\n---\n\nEinführung.\n'
    )
    files = {
        "course.md": course_md,
        "01-erste.md": pool_lesson("Eins", 4, 2),
        "02-zweite.md": lesson("Text.\n\n" + quiz("Mehrere?", right=2) + quiz("Fest?", extra="shuffle: false\n")),
    }
    course, messages = parse(make_course(tmp_path, files))
    assert messages == []
    first, second = course.lessons
    assert (first.draw, first.asked, len(first.questions)) == (2, 2, 4)
    assert [q.kind for q in first.questions] == ["single"] * 4
    assert [(q.kind, q.shuffle) for q in second.questions] == [("multiple", True), ("single", False)]
    assert (course.final_draw, course.final_pass_score) == (3, 75)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"01-erste.md": pool_lesson("Eins", 2, 3)}, "01-erste.md:3: 'draw' is 3, but the lesson has 2 questions"),
        (
            {"01-erste.md": lesson("T.\n\n" + quiz("Zwei?", right=2, extra="type: single\n"))},
            "01-erste.md:14: a single-choice question needs exactly one right answer, not 2",
        ),
        (
            {"01-erste.md": lesson("T.\n\n" + quiz("Art?", extra="type: choice\n"))},
            "01-erste.md:13: 'type' must be single or multiple, not 'choice'",
        ),
        (
            {"01-erste.md": lesson("T.\n\n" + quiz("M?", extra="shuffle: nein\n"))},
            "01-erste.md:13: 'shuffle' must be true or false, not 'nein'",
        ),
        (
            {"course.md": '---\ntitle: "K"\nsummary: "S"\nfinal_check: {draw: 9}\n---\n\nText.\n'},
            "course.md:4: the final check draws 9 questions, but the course has only 1",
        ),
    ],
)
def test_bad_assessment_settings_are_errors_at_their_line(tmp_path, files, message):
    course, messages = parse(make_course(tmp_path, files))
    assert course is None and f"courses/testkurs/{message}" in messages


def test_a_stated_duration_far_from_the_derived_one_is_a_warning_naming_it(tmp_path):
    course_md = '---\ntitle: "K"\nsummary: "S"\nduration_minutes: 30\n---\n\nText.\n'
    course, messages = parse(make_course(tmp_path, {"course.md": course_md}))
    assert course is not None
    assert messages == [
        "courses/testkurs/course.md:4: warning: duration_minutes 30 is more than 30 % off the derived 1 "
        "(5 words at 160 per minute, 1 questions asked at 1 minute each)"
    ]


def test_sources_are_not_a_lesson_and_a_variant_has_the_same_lessons(tmp_path):
    variant = {
        "SOURCES.md": "# Quellen\n\n- BSI\n",
        "einfache-sprache/course.md": '---\ntitle: "Einfach"\nsummary: "Kurz."\n---\n\nEinfach erklärt.\n',
        "einfache-sprache/01-erste.md": pool_lesson("Leicht", 3, 1),
    }
    course, messages = parse(make_course(tmp_path, variant))
    assert messages == [] and [lesson.key for lesson in course.lessons] == ["01-erste"]
    [simple] = course.variants
    assert (simple.code, simple.title, [lesson.key for lesson in simple.lessons]) == (
        "einfache-sprache",
        "Einfach",
        ["01-erste"],
    )
    del variant["einfache-sprache/01-erste.md"]
    variant["einfache-sprache/02-andere.md"] = pool_lesson("X", 2, 1)
    course, messages = parse(make_course(tmp_path / "b", variant))
    assert course is None
    assert (
        "b/courses/testkurs/einfache-sprache/01-erste.md:1: "
        "the variant einfache-sprache lacks this lesson of the course" in messages
    )
    assert "b/courses/testkurs/einfache-sprache/02-andere.md:1: the course has no lesson of this name" in messages


# --- drawing ------------------------------------------------------------------------------------


def pool_course(make_course, final_draw=None, questions=6, draw=2):
    course = make_course(
        lessons=[
            [(f"Frage {i}?", [("Richtig", True), ("Falsch A", False), ("Falsch B", False)]) for i in range(questions)]
        ]
    )
    course.lessons[0].draw = draw
    course.final_draw, course.final_pass_score = final_draw, 100 if final_draw else None
    course.version += 1
    db.session.commit()
    return course


def test_an_attempt_keeps_its_draw_and_the_next_one_draws_anew(database, make_user, make_course):
    from lms.learning.services import open_course

    user, course = make_user(), pool_course(make_course)
    opened = open_course(user, course.slug)
    quiz = attempts.lesson_quiz(opened.course, opened.course.lessons[0])
    first = attempts.draw(user, quiz, 1)
    assert first == attempts.draw(user, quiz, 1) and len(first) == 2  # stable while the attempt lasts
    draws = {tuple(item.question.id for item in attempts.draw(user, quiz, n)) for n in range(1, 11)}
    orders = {item.order for n in range(1, 11) for item in attempts.draw(user, quiz, n)}
    assert len(draws) > 3 and len(orders) > 1  # new questions, answers in new orders
    other = make_user()
    assert any(attempts.draw(other, quiz, n) != attempts.draw(user, quiz, n) for n in range(1, 4))


# --- the final check over HTTP ------------------------------------------------------------------


def submit(client, url, answer_for) -> str:
    page = client.get(url)
    html = page.get_data(as_text=True)
    number = ATTEMPT.search(html).group(1)
    data = {"csrf_token": csrf_token(page), "attempt": number}
    for question_id in {int(q) for q in re.findall(r'name="q-(\d+)"', html)}:
        data[f"q-{question_id}"] = str(answer_for(question_id))
    return client.post(url if url.endswith("final-check") else f"{url}/quiz", data=data)


def test_the_final_check_gates_the_completion(client, make_user, sign_in, make_course):
    course = pool_course(make_course, final_draw=3)
    sign_in(make_user())
    final = f"/courses/{course.slug}/final-check"
    assert "sobald alle Lektionen erledigt sind" in client.get(final).get_data(as_text=True)
    lesson = f"/courses/{course.slug}/{course.lessons[0].key}"
    submit(client, lesson, lambda _q: 0)  # right: the lesson is done
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 0  # not yet: the final check
    submit(client, final, lambda _q: 1)  # all wrong
    html = client.get(final).get_data(as_text=True)
    assert "Noch nicht bestanden: 0 von 3" in html and html.count("Erklärung zu") == 3  # each wrong one explained
    assert "answer-right" not in html and 'name="attempt" value="2"' in html
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 0
    response = submit(client, final, lambda _q: 0)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/courses/{course.slug}/")
    [completion] = db.session.scalars(select(Completion)).all()
    assert completion.score_percent == 100
    assert client.get(final).get_data(as_text=True).count("answer-right") == 3  # the solution, now
    kinds = sorted(db.session.scalars(select(QuizAttempt.lesson_key)))
    assert kinds == ["", "", course.lessons[0].key]


def test_a_course_without_a_final_check_has_no_such_page(client, make_user, sign_in, make_course):
    course = make_course()
    sign_in(make_user())
    assert client.get(f"/courses/{course.slug}/final-check").status_code == 404


def test_an_attempt_cannot_answer_questions_it_did_not_ask(client, make_user, sign_in, make_course):
    course = pool_course(make_course)
    sign_in(make_user())
    url = f"/courses/{course.slug}/{course.lessons[0].key}"
    page = client.get(url)
    asked = {int(q) for q in re.findall(r'name="q-(\d+)"', page.get_data(as_text=True))}
    other = next(q.id for q in course.lessons[0].questions if q.id not in asked)
    data = {"csrf_token": csrf_token(page), "attempt": "1", **{f"q-{q}": "0" for q in asked}, f"q-{other}": "0"}
    assert client.post(f"{url}/quiz", data=data).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0


def test_a_variant_is_remembered_and_shares_the_progress(client, make_user, sign_in, make_course):
    from lms.catalog.models import CourseVariant, Lesson, QuizQuestion

    course = make_course()
    variant = CourseVariant(code="einfache-sprache", title="Einfach", summary="Kurz", intro_html="<p>Leicht</p>")
    course.variants.append(variant)
    for main in course.lessons:
        simple = Lesson(
            key=main.key,
            variant="einfache-sprache",
            position=main.position,
            title=f"Einfach {main.position}",
            body_html="<p>Einfacher Text</p>",
            content_hash="e" * 64,
        )
        simple.questions = [
            QuizQuestion(
                position=1,
                question="Leicht?",
                answers=[{"text": "Ja", "correct": True}, {"text": "Nein", "correct": False}],
                explanation="Weil.",
                content_hash=f"e{main.position}".ljust(64, "e"),
                kind="single",
            )
        ]
        course.variant_lessons.append(simple)
    course.version += 1
    db.session.commit()
    sign_in(make_user())
    page = client.get(f"/courses/{course.slug}/")
    assert "In Einfache Sprache lesen" in page.get_data(as_text=True)
    client.post(f"/courses/{course.slug}/variant", data={"csrf_token": csrf_token(page), "variant": "einfache-sprache"})
    html = client.get(f"/courses/{course.slug}/").get_data(as_text=True)
    assert "Einfach" in html and "Leicht" in html and "Originalfassung" in html
    for main in course.lessons:
        submit(client, f"/courses/{course.slug}/{main.key}", lambda _q: 0)
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 1  # the course's completion
    assert db.session.get(Course, course.id).variants[0].code == "einfache-sprache"


def take(user, slug: str, key: str, choice: int) -> None:
    """One learner's first attempt at a lesson's quiz, every question answered with `choice`."""
    from lms.learning import services

    opened = services.open_course(user, slug)
    lesson = next(item for item in opened.course.lessons if item.key == key)
    quiz = attempts.lesson_quiz(opened.course, lesson)
    chosen = {item.question.id: [choice] for item in attempts.draw(user, quiz, 1)}
    services.submit_quiz(user, opened, quiz, 1, chosen)
    db.session.commit()


def test_trainers_see_per_question_figures_only_for_groups_of_five(client, make_user, sign_in, make_course):
    """(Only trainers reach the page: the attacker's walk checks every role against it.)"""
    course = pool_course(make_course, questions=3, draw=3)
    lesson = course.lessons[0]
    for n in range(5):
        take(make_user(), course.slug, lesson.key, 0 if n < 4 else 1)
    sign_in(make_user(roles=["trainer"], locale="en"))
    html = client.get(f"/trainer/courses/{course.slug}/questions").get_data(as_text=True)
    # Five learners: a band, never an exact share (80 % of five would tell about each of them).
    assert html.count("5 learners; answers right: 75 % or more.") == 3
    assert "80 %" not in html and "chosen 1 time" not in html


def test_twenty_learners_give_exact_question_figures(client, make_user, sign_in, make_course, app, monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_EXACT_SHARE_FROM", 5)
    course = pool_course(make_course, questions=3, draw=3)
    lesson = course.lessons[0]
    for n in range(5):
        take(make_user(), course.slug, lesson.key, 0 if n < 4 else 1)
    sign_in(make_user(roles=["trainer"], locale="en"))
    html = client.get(f"/trainer/courses/{course.slug}/questions").get_data(as_text=True)
    assert html.count("5 learners, 5 answers, 80 % right") == 3
    assert "Falsch A (wrong option): chosen 1 time" in html


def test_fewer_than_five_learners_give_no_question_figures(client, make_user, sign_in, make_course):
    course = pool_course(make_course, questions=3, draw=3)
    take(make_user(), course.slug, course.lessons[0].key, 0)
    sign_in(make_user(roles=["trainer"], locale="en"))
    html = client.get(f"/trainer/courses/{course.slug}/questions").get_data(as_text=True)
    assert html.count("fewer than 5 learners: not shown") == 3 and "% right" not in html


def test_trainers_see_the_median_time_to_complete_and_where_learners_stop(client, make_user, sign_in, make_course):
    """Per course, aggregates only: the median from starting to completing, and the lesson most
    often next for those who stopped; both only for groups of 5 or more."""
    from datetime import timedelta

    from lms.common.dates import utcnow
    from lms.learning.models import Enrollment, LessonProgress

    course = make_course(lessons=[[], [], []])  # three lessons without quizzes
    now = utcnow()
    for days in (1, 2, 3, 4, 5):  # five completed it, after 1 to 5 days: the median is 3 days
        person = make_user()
        db.session.add(Enrollment(user_id=person.id, course_id=course.id, started_at=now - timedelta(days=days)))
        db.session.add(
            Completion(user_id=person.id, course_id=course.id, course_version=1, completed_at=now, score_percent=100)
        )
    for stopped_after in (1, 1, 1, 1, 1, 2, 0):  # five stopped before lesson 2, one before 3, one before 1
        person = make_user()
        db.session.add(Enrollment(user_id=person.id, course_id=course.id, started_at=now))
        for done_lesson in course.lessons[:stopped_after]:
            db.session.add(LessonProgress(user_id=person.id, lesson_id=done_lesson.id))
    db.session.commit()
    sign_in(make_user(roles=["admin"], locale="en"))
    html = client.get("/trainer/").get_data(as_text=True)
    assert "3 days" in html and "Lektion 2 (5 learners)" in html
    assert "Lektion 3 (" not in html and "Lektion 1 (" not in html


def test_the_journey_figures_hide_groups_under_five(client, make_user, sign_in, make_course):
    from lms.learning.models import Enrollment

    course = make_course(lessons=[[], []])
    for _ in range(4):
        db.session.add(Enrollment(user_id=make_user().id, course_id=course.id))
    db.session.commit()
    sign_in(make_user(roles=["admin"], locale="en"))
    html = client.get("/trainer/").get_data(as_text=True)
    assert html.count("fewer than 5") >= 3 and "Lektion 1 (" not in html
