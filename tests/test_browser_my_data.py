"""An employee downloads their data (Art. 15 GDPR) in a real browser."""

import json
import zipfile

import pytest

from tests.browser import assert_accessible
from tests.browser import sign_in as browser_sign_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_an_employee_downloads_their_data_from_the_profile(page, make_user, digcomp, tmp_path):
    person = make_user(email="erika.download@musterhausen.example")
    browser_sign_in(page, person.email, DEFAULT_PASSWORD)
    page.goto("/profile/")
    page.get_by_role("link", name="Meine Daten herunterladen").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Meine Daten"
    assert_accessible(page)
    with page.expect_download() as started:
        page.get_by_role("link", name="Meine Daten herunterladen (Zip)").click()
    download = started.value
    assert download.suggested_filename.startswith("lernpfad-meine-daten-")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("daten.json"))
    assert [row["email"] for row in data["tables"]["users"]] == [person.email]
