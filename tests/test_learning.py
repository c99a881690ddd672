"""The learner's journey over HTTP: My learning, course, lesson, quiz, completion, certificate."""

import re

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.learning import services
from lms.learning.models import Completion, LessonProgress, QuizAttempt, QuizResponse
from tests.conftest import csrf_token


@pytest.fixture
def learner(make_user, sign_in):
    user = make_user()
    sign_in(user)
    return user


def lesson_url(course, index):
    return f"/courses/{course.slug}/{course.lessons[index].key}"


ATTEMPT = re.compile(r'name="attempt" value="(\d+)"')


def answer(client, course, index, choices: dict[int, list[int]]):
    url = lesson_url(course, index)
    page = client.get(url)
    data = {"csrf_token": csrf_token(page), "attempt": ATTEMPT.search(page.get_data(as_text=True)).group(1)}
    data.update({f"q-{qid}": [str(i) for i in idx] for qid, idx in choices.items()})
    return client.post(f"{url}/quiz", data=data)


def mark_done(client, course, index):
    url = lesson_url(course, index)
    return client.post(f"{url}/done", data={"csrf_token": csrf_token(client.get(url))})


def right_answers(course, index):
    return {q.id: sorted(q.correct_indexes) for q in course.lessons[index].questions}


def complete(client, course):
    for index, lesson in enumerate(course.lessons):
        if lesson.questions:
            answer(client, course, index, right_answers(course, index))
        else:
            mark_done(client, course, index)


def test_lesson_page_never_reveals_the_right_answers_before_submitting(client, learner, make_course):
    course = make_course()
    html = client.get(lesson_url(course, 1)).get_data(as_text=True)
    assert "Auch richtig" in html and 'type="checkbox"' in html
    for leak in ("answer-right", "correct:", "Erklärung zu", "✓"):
        assert leak not in html, leak


def test_a_failed_attempt_shows_what_was_wrong_and_why_but_not_the_right_options(client, learner, make_course):
    course = make_course()
    question = course.lessons[1].questions[0]
    response = answer(client, course, 1, {question.id: [0]})  # one of two right answers: wrong
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Noch nicht bestanden: 0 von 1 Fragen richtig beantwortet" in html
    assert "Erklärung zu Und hier?" in html  # the explanation written for it
    assert "answer-right" not in html and "Ihre Wahl" not in html  # not the solution
    assert 'name="attempt" value="2"' in html  # the next attempt, at once
    answer(client, course, 1, {question.id: [0, 1]})
    html = client.get(lesson_url(course, 1)).get_data(as_text=True)
    assert "Bestanden: 1 von 1 Fragen" in html and "answer-right" in html and "Ihre Wahl" in html  # the solution
    assert 'name="attempt"' not in html  # passed: no further attempt
    stored = db.session.get(QuizResponse, (learner.id, question.id))
    db.session.refresh(stored)
    assert stored.is_correct and stored.chosen == [0, 1]  # the latest answer; no counter is kept
    assert db.session.get(LessonProgress, (learner.id, course.lessons[1].id)) is not None  # passing marks it done


def test_the_solution_appears_after_the_configured_number_of_failed_attempts(client, learner, make_course, app):
    course = make_course()
    question = course.lessons[1].questions[0]
    for attempt in range(1, 4):
        answer(client, course, 1, {question.id: [2]})
        html = client.get(lesson_url(course, 1)).get_data(as_text=True)
        assert ("answer-right" in html) == (attempt >= app.config["QUIZ_SOLUTION_AFTER_ATTEMPTS"])
    assert 'name="attempt" value="4"' in html  # still allowed to try again


def test_a_lesson_with_a_quiz_is_not_done_by_marking_it(client, learner, make_course):
    course = make_course()
    mark_done(client, course, 0)
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0


def test_unanswered_question_gets_a_message_next_to_it_and_nothing_is_stored(client, learner, make_course):
    course = make_course(lessons=[[("Eins?", [("a", True), ("b", False)]), ("Zwei?", [("a", True), ("b", False)])]])
    first, second = course.lessons[0].questions
    response = answer(client, course, 0, {first.id: [0]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="q-{second.id}-error"' in html and f"q-{second.id}-hint q-{second.id}-error" in html
    assert f'id="q-{first.id}-0" name="q-{first.id}" value="0" checked' in html
    assert 'type="radio"' in html  # one right answer each: single choice
    assert db.session.scalar(select(func.count()).select_from(QuizResponse)) == 0
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0


@pytest.mark.parametrize("tampered", ["index-out-of-range", "not-a-number", "other-lesson"])
def test_tampered_answers_are_refused_and_nothing_is_stored(client, learner, make_course, tampered):
    course = make_course()
    question = course.lessons[0].questions[0]
    other = course.lessons[1].questions[0]
    url = lesson_url(course, 0)
    data = {"csrf_token": csrf_token(client.get(url)), f"q-{question.id}": "0"}
    if tampered == "index-out-of-range":
        data[f"q-{question.id}"] = "7"
    elif tampered == "not-a-number":
        data[f"q-{question.id}"] = "eins"
    else:
        data[f"q-{other.id}"] = "0"
    response = client.post(f"{url}/quiz", data=data)
    assert response.status_code == 400
    assert "passen nicht zu diesem Quiz" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(QuizResponse)) == 0


def test_a_lesson_key_of_another_course_is_not_found(client, learner, make_course):
    first, second = make_course(), make_course(lessons=[[("x?", [("a", True), ("b", False)])], [], []])
    assert client.get(f"/courses/{first.slug}/03-lektion").status_code == 404
    assert client.get(f"/courses/{second.slug}/03-lektion").status_code == 200
    token = csrf_token(client.get(f"/courses/{second.slug}/03-lektion"))
    assert client.post(f"/courses/{first.slug}/03-lektion/done", data={"csrf_token": token}).status_code == 404


def test_completing_a_course_records_time_score_and_version(client, learner, make_course):
    course = make_course(valid_months=12)
    course.version = 3
    db.session.commit()
    complete(client, course)
    completion = db.session.execute(select(Completion)).scalar_one()
    assert completion.user_id == learner.id and completion.course_version == 3
    assert completion.score_percent == 100 and completion.expires_at is not None
    page = client.get(f"/courses/{course.slug}/").get_data(as_text=True)
    assert "Abgeschlossen am" in page
    certificate = client.get(f"/courses/{course.slug}/certificate").get_data(as_text=True)
    assert learner.name in certificate and course.title in certificate


def test_below_the_pass_mark_there_is_no_completion(client, learner, make_course):
    course = make_course(pass_score=80)
    answer(client, course, 0, right_answers(course, 0))
    answer(client, course, 1, {course.lessons[1].questions[0].id: [2]})  # wrong: this lesson not passed
    mark_done(client, course, 1)
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 0
    assert client.get(f"/courses/{course.slug}/certificate").status_code == 404


def test_double_submit_gives_one_completion(client, learner, make_course):
    course = make_course(lessons=[[("x?", [("a", True), ("b", False)])]])
    url = lesson_url(course, 0)
    page = client.get(url)
    question = course.lessons[0].questions[0]
    data = {"csrf_token": csrf_token(page), "attempt": "1", f"q-{question.id}": "0"}
    assert client.post(f"{url}/quiz", data=data).status_code == 302
    again = client.post(f"{url}/quiz", data=data)  # the same attempt sent twice
    assert again.status_code == 302 and db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 1
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 1
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1


def test_completion_race_hits_the_unique_constraint_not_a_second_row(database, make_user, make_course):
    user, course = make_user(), make_course(lessons=[[]])
    db.session.add(
        Completion(
            user_id=user.id,
            course_id=course.id,
            sequence=1,
            course_version=1,
            score_percent=100,
            expires_at=services.add_months(services.utcnow(), -1),
        )
    )
    db.session.commit()
    opened = services.open_course(user, course.slug)  # sees sequence 1, expired
    db.session.add(Completion(user_id=user.id, course_id=course.id, sequence=2, course_version=1, score_percent=100))
    db.session.flush()
    services.mark_lesson_done(user, opened, opened.course.lessons[0])  # would also be sequence 2
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 2


def test_expired_completion_asks_for_renewal_and_restart_keeps_the_old_certificate(client, learner, make_course):
    course = make_course(valid_months=12)
    complete(client, course)
    completion = db.session.execute(select(Completion)).scalar_one()
    completion.expires_at = services.add_months(services.utcnow(), -1)
    db.session.commit()
    assert "Zur Erneuerung fällig" in client.get("/learning/").get_data(as_text=True)
    page = client.get(f"/courses/{course.slug}/")
    client.post(f"/courses/{course.slug}/restart", data={"csrf_token": csrf_token(page)})
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0
    complete(client, course)
    assert [c.sequence for c in db.session.execute(select(Completion).order_by(Completion.sequence)).scalars()] == [
        1,
        2,
    ]


def test_my_learning_shows_progress_completed_and_newest(client, learner, make_course):
    started, done, fresh = make_course(title="Angefangen"), make_course(title="Fertig"), make_course(title="Neu")
    answer(client, started, 0, right_answers(started, 0))
    complete(client, done)
    html = client.get("/learning/").get_data(as_text=True)
    in_progress = html.split('id="in-progress-heading"')[1].split('id="completed-heading"')[0]
    completed = html.split('id="completed-heading"')[1].split('id="newest-heading"')[0]
    assert "Angefangen" in in_progress and "1 von 2 Lektionen erledigt" in in_progress and "Fertig" not in in_progress
    assert "Fertig" in completed and "abgeschlossen am" in completed
    assert fresh.title in html.split('id="newest-heading"')[1]


# --- statements per page: a fixed number, whatever the number of courses, lessons, questions ------
# Warm: the course versions shown are in the outline cache (every request after a version's first).
# Cold: versions seen for the first time are loaded together, in OUTLINE_LOAD statements more.

# Every signed-in page also counts its reader's unread notifications for the bell (one statement).
STATEMENTS = {
    "lesson": 5,  # session with user and roles; the bell; version and latest completion; lessons done and
    # answers; the learner's attempts at the quiz
    "course": 5,  # the same, and the next sessions of the course (lms/sessions)
    "certificate": 3,  # session; the bell; version and latest completion
    "catalogue": 3,  # session; the bell; the published versions
    "my_learning": 7,  # session; bell; assignments; versions with enrollments; completions; lessons done; initiatives
}
OUTLINE_LOAD = 4  # course rows, lessons with their questions, tags, competences
PAGE_URLS = {
    "lesson": lambda course: lesson_url(course, 0),
    "course": lambda course: f"/courses/{course.slug}/",
    "certificate": lambda course: f"/courses/{course.slug}/certificate",
}


def statements(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def big_course(make_course):
    return make_course(
        lessons=[[(f"Frage {i}?", [("a", True), ("b", False), ("c", False)]) for i in range(8)] for _ in range(6)],
        competences=(("4.1", 3), ("1.1", 2), ("2.1", 4)),
        tags=("sicherheit", "e-mail", "alltag"),
    )


def new_version(course):
    course.version += 1
    db.session.commit()


def test_every_learner_page_stays_within_eleven_statements_even_with_a_cold_cache():
    # Eleven since My learning also shows the person's initiatives and their announcements (one statement).
    assert max(STATEMENTS.values()) + OUTLINE_LOAD <= 11


@pytest.mark.parametrize("page", ["lesson", "course", "certificate"])
def test_course_pages_take_a_fixed_number_of_statements(client, learner, make_course, count_queries, page):
    small = make_course(lessons=[[("a?", [("a", True), ("b", False)])]], competences=())
    big = big_course(make_course)
    for course in (small, big):
        complete(client, course)
        new_version(course)  # a version this process has not seen yet
        url = PAGE_URLS[page](course)
        assert statements(client, count_queries, url) == STATEMENTS[page] + OUTLINE_LOAD, course
        assert statements(client, count_queries, url) == STATEMENTS[page], course


def test_the_final_check_takes_a_fixed_number_of_statements(client, learner, make_course, count_queries):
    # session; the bell; version and latest completion; lessons done and answers; the attempts
    for questions in (2, 12):
        course = make_course(lessons=[[(f"F{i}?", [("a", True), ("b", False)]) for i in range(questions)]])
        course.final_draw = 2
        new_version(course)
        complete(client, course)
        url = f"/courses/{course.slug}/final-check"
        assert statements(client, count_queries, url) == 5  # the outline is cached by the lessons taken


def test_my_learning_takes_a_fixed_number_of_statements(client, learner, make_course, count_queries):
    mark_done(client, make_course(), 0)
    statements(client, count_queries, "/learning/")
    assert statements(client, count_queries, "/learning/") == STATEMENTS["my_learning"]
    for _ in range(3):
        complete(client, big_course(make_course))
        mark_done(client, make_course(), 0)
    make_course(title="Ganz neu")  # not started: one of the newest, not seen yet
    assert statements(client, count_queries, "/learning/") == STATEMENTS["my_learning"] + OUTLINE_LOAD
    assert statements(client, count_queries, "/learning/") == STATEMENTS["my_learning"]


def test_catalogue_takes_a_fixed_number_of_statements(client, learner, make_course, count_queries):
    make_course()
    statements(client, count_queries, "/courses/")
    assert statements(client, count_queries, "/courses/") == STATEMENTS["catalogue"]
    for _ in range(5):
        big_course(make_course)
    filtered = "/courses/?q=kurs&tag=alltag&competence=1.1&duration=medium"
    assert statements(client, count_queries, filtered) == STATEMENTS["catalogue"] + OUTLINE_LOAD
    assert statements(client, count_queries, filtered) == STATEMENTS["catalogue"]
    assert statements(client, count_queries, "/courses/") == STATEMENTS["catalogue"]


def test_certificate_is_only_the_learners_own(client, make_user, sign_in, make_course, app):
    course = make_course(lessons=[[("x?", [("a", True), ("b", False)])]])
    owner = make_user()
    sign_in(owner)
    complete(client, course)
    other = app.test_client()
    someone = make_user()
    login = other.get("/auth/login")
    other.post(
        "/auth/login",
        data={"csrf_token": csrf_token(login), "email": someone.email, "password": "Korrekt-Pferd-Batterie-42"},
    )
    assert other.get(f"/courses/{course.slug}/certificate").status_code == 404
