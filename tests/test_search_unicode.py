"""Searches fold the case of umlauts on every database, as PostgreSQL's lower() does.

SQLite's built-in lower() folds only ASCII; lms.extensions.configure_sqlite replaces it. PostgreSQL
folds umlauts when the database's locale is a UTF-8 one (with the C locale it folds only ASCII too).
"""

import pytest
from sqlalchemy import String, cast, func, literal, select

from lms.extensions import db


def found_names(query) -> list[str]:
    return [user.family_name for user in db.session.execute(query).unique().scalars()]


def test_sql_lower_folds_umlauts_and_keeps_null(database):
    assert db.session.scalar(select(func.lower(literal("ÄÖÜ Straße ÉCOLE")))) == "äöü straße école"
    assert db.session.scalar(select(func.lower(cast(literal(None), String)))) is None


@pytest.mark.parametrize("search", ["özdemir", "ÖZDEMIR", "Özdemir", "ömer öz"])
def test_people_search_finds_a_name_with_an_umlaut_in_any_case(database, make_user, search):
    from lms.people.services import users_query

    make_user(given_name="Ömer", family_name="Özdemir")
    make_user(given_name="Otto", family_name="Ozdemir")
    assert found_names(users_query(search)) == ["Özdemir"]


def test_admin_list_finds_a_name_with_an_umlaut(client, make_user, sign_in):
    sign_in(make_user(roles=["admin"]))
    make_user(given_name="Ümit", family_name="Özdemir")
    page = client.get("/admin/users?q=özdemir").get_data(as_text=True)
    assert "Özdemir, Ümit" in page


@pytest.mark.parametrize("search", ["übungen", "ÜBUNGEN", "ämter"])
def test_catalogue_search_finds_a_title_with_an_umlaut_in_any_case(make_course, search):
    from lms.catalog.services import CatalogueFilter, search_catalogue

    make_course(title="Übungen für Ämter")
    make_course(title="Passwörter")
    assert [course.title for course in search_catalogue(CatalogueFilter(query=search))] == ["Übungen für Ämter"]
