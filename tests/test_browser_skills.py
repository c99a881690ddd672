"""Competence views in a real browser: HR's matrix and export, a manager's limits, an employee's profile."""

import csv
import io
from pathlib import Path

import pytest

from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD, competence

pytestmark = pytest.mark.browser


def sign_in(page, user):
    browser_sign_in(page, user.email, DEFAULT_PASSWORD)


def test_hr_sees_the_whole_matrix_and_exports_what_the_page_shows(page, town):
    sign_in(page, town["hr"])
    page.get_by_role("navigation", name="Hauptmenü").get_by_role("link", name="Kompetenzmatrix").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Kompetenzmatrix"
    rows = page.locator("table.matrix tbody tr")
    assert rows.count() == len(town["staff"]) + len(town["others"]) + 2
    assert_accessible(page)

    shown = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        name = row.locator("th a").inner_text()
        cell = row.locator('td[data-competence="4.1"] .cell-value').inner_text()
        shown[name] = cell

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Als CSV exportieren").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    table = list(csv.DictReader(io.StringIO("\n".join(text.splitlines()[5:]))))
    exported = {f"{r['Nachname']}, {r['Vorname']}": f"{r['4.1 aktuell']}/{r['4.1 Ziel'] or '–'}" for r in table}
    assert exported == shown

    page.locator('td[data-competence="4.1"] a').first.click()
    assert "4.1" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page)


def test_manager_sees_only_their_departments_and_is_refused_elsewhere(levels_preset, page, town):
    sign_in(page, town["manager"])
    page.goto("/matrix/")
    names = page.locator("table.matrix tbody th a").all_inner_texts()
    assert sorted(n.split(",")[0] for n in names) == sorted(p.family_name for p in town["staff"])
    assert_accessible(page)
    response = page.goto(f"/people/{town['others'][0].id}/profile")
    assert response.status == 404  # a person out of sight answers like a missing one
    assert page.get_by_role("heading", level=1).inner_text() == "Seite nicht gefunden"


def test_employee_sees_profile_and_gap_recommendations(page, town, make_course):
    make_course(title="Geräte schützen im Büro", competences=(("4.1", 3),))
    sign_in(page, town["staff"][2])
    page.get_by_role("navigation", name="Hauptmenü").get_by_role("link", name="Meine Kompetenzen").click()
    gaps = page.locator("section", has=page.get_by_role("heading", name="Lücken und passende Kurse"))
    assert "Geräte schützen im Büro" in gaps.inner_text()
    assert page.locator("svg.level-chart").count() == 5
    assert_accessible(page)
    row = page.locator(f"#competence-{competence('4.1').id}")
    row.get_by_role("combobox").select_option("5")
    row.get_by_role("button").click()
    assert "gespeichert" in page.get_by_role("status").first.inner_text()
    assert page.locator(f"#competence-{competence('4.1').id} td").nth(2).inner_text().strip() == "5"


@pytest.mark.parametrize("path", ["/gaps/", "/gaps/?by=job_role", "/matrix/"])
def test_wide_tables_scroll_in_a_region_the_keyboard_reaches(page, town, path):
    """On a narrow window the wide tables scroll; each scrolling box is focusable and named."""
    page.set_viewport_size({"width": 480, "height": 800})
    sign_in(page, town["hr"])
    page.goto(path)
    boxes = page.locator(".kern-table-responsive")
    assert boxes.count() >= 1
    assert any(boxes.nth(i).evaluate("box => box.scrollWidth > box.clientWidth") for i in range(boxes.count()))
    for index in range(boxes.count()):
        box = boxes.nth(index)
        assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
        label_id = box.get_attribute("aria-labelledby")
        assert page.locator(f"#{label_id}").count() == 1
    assert_accessible(page)
