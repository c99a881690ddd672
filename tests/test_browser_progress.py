"""HR opens the progress report in a real browser: axe checks the page, and its PDF link answers
with a PDF."""

import pytest

from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_hr_opens_the_progress_report_and_its_pdf(page, make_user, make_department, make_course):
    office = make_department(code="10", name="Amt für Bürgerdienste")
    for _ in range(3):
        make_user(department=office)
    make_course(title="Sicher im Netz")
    hr = make_user(roles=["hr"], given_name="Hanna", family_name="Personal")

    browser_sign_in(page, hr.email, DEFAULT_PASSWORD)
    page.goto("/strategy/")
    page.locator("main a[href$='/progress/']").click()  # the page's link, not the menu's
    page.wait_for_load_state()
    assert page.url.endswith("/progress/")
    assert "Sicher im Netz" in page.locator("#progress-uptake").inner_text()
    assert_accessible(page)

    link = page.locator("#progress-pdf").get_attribute("href")
    response = page.request.get(link)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
