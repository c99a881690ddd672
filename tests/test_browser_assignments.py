"""In a real browser: HR assigns a mandatory course to a department through the form; an employee
of that department finds it on My learning. axe checks every page on the way."""

from datetime import timedelta

import pytest
from babel.dates import format_date

from lms.assignments import services
from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_hr_assigns_a_course_and_the_employee_sees_it(
    page, browser, live_server, make_department, make_user, make_course
):
    office = make_department(code="33.1", name="Bürgerbüro")
    make_department(code="FB2", name="Finanzen")
    employee = make_user(department=office, given_name="Emil", family_name="Engel", locale="en")
    hr = make_user(roles=["hr"], family_name="Hoffmann", locale="en")
    make_course(title="Datenschutz im Bürgerbüro")
    make_course(title="Sicher im Netz")
    due = services.town_today() + timedelta(days=21)

    browser_sign_in(page, hr.email, DEFAULT_PASSWORD)
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Course assignments").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Course assignments"
    assert_accessible(page)

    page.get_by_role("link", name="Assign a course").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Assign a course"
    assert_accessible(page)
    page.get_by_label("Course", exact=True).select_option(label="Datenschutz im Bürgerbüro")
    page.get_by_role("radio", name="A department (with its sub-departments)").check()
    page.get_by_label("Department", exact=True).select_option(label="33.1 – Bürgerbüro")
    page.get_by_role("radio", name="By a fixed date").check()
    page.get_by_label("Due date", exact=True).fill("2020-01-01")
    page.get_by_label("Mandatory", exact=True).check()
    page.get_by_role("button", name="Assign the course").click()
    # A date in the past: the error is announced and shown next to the field; the page stays accessible.
    assert "in the past" in page.get_by_role("alert").inner_text()
    assert "in the past" in page.locator("#due_date-error").inner_text()
    assert_accessible(page)

    page.get_by_label("Due date", exact=True).fill(due.isoformat())
    page.locator("#reason").fill("Required by the town's data protection rules")
    page.get_by_role("button", name="Assign the course").click()
    assert "Assigned to 1 person." in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("heading", level=1).inner_text() == "Assignment of “Datenschutz im Bürgerbüro”"
    people = page.locator("#rule-people")
    assert "Engel, Emil" in people.inner_text() and "open" in people.inner_text()
    assert_accessible(page)

    page.goto("/assignments/")
    assert "Datenschutz im Bürgerbüro" in page.locator("#assignment-rules").inner_text()
    assert_accessible(page)

    context = browser.new_context(base_url=live_server, locale="de-DE")
    try:
        learner = context.new_page()
        learner.set_default_timeout(10_000)
        browser_sign_in(learner, employee.email, DEFAULT_PASSWORD)
        learner.wait_for_url("**/learning/")
        assigned = learner.locator("#my-assignments")
        assert assigned.get_by_role("heading", level=2).inner_text() == "Assigned to you"
        row = assigned.get_by_role("row", name="Datenschutz im Bürgerbüro")
        text = row.inner_text()
        assert format_date(due, "medium", locale="en") in text
        assert "mandatory" in text and "Required by the town's data protection rules" in text
        # The assignments come before the learner's own courses.
        headings = learner.get_by_role("heading", level=2).all_inner_texts()
        assert headings[0] == "Assigned to you"
        assert_accessible(learner)
        row.get_by_role("link", name="Datenschutz im Bürgerbüro").click()
        assert learner.get_by_role("heading", level=1).inner_text() == "Datenschutz im Bürgerbüro"
    finally:
        context.close()
