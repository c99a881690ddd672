"""The catalogue: its filters find the right courses and offer what the published courses hold."""

from __future__ import annotations

import re

import pytest
from flask import get_template_attribute, render_template_string, request

from lms.catalog import services
from lms.catalog.forms import CatalogueFilterForm
from lms.extensions import db
from tests.conftest import csrf_token


@pytest.fixture
def learner(make_user, sign_in):
    user = make_user()
    sign_in(user)
    return user


@pytest.fixture
def courses(make_course):
    return {
        "phishing": make_course(title="Phishing erkennen", competences=(("4.1", 3),), tags=("sicherheit",)),
        "akte": make_course(title="E-Akte", competences=(("2.4", 2),), tags=("e-akte",), duration=45),
        "english": make_course(
            title="Video calls", language="en", competences=(("2.1", 2),), tags=("video",), duration=10
        ),
    }


def found(client, query: str) -> list[str]:
    html = client.get(f"/courses/?{query}").get_data(as_text=True)
    return re.findall(r'kern-link--stretched" href="[^"]+">([^<]+)</a>', html)


@pytest.mark.parametrize(
    "query, titles",
    [
        ("", ["E-Akte", "Phishing erkennen", "Video calls"]),
        ("q=PHISHING", ["Phishing erkennen"]),
        ("q=testkurs", ["E-Akte", "Phishing erkennen", "Video calls"]),  # in the summary
        ("area=4", ["Phishing erkennen"]),
        ("competence=2.4", ["E-Akte"]),
        ("area=2&competence=4.1", []),  # a competence of another area
        ("duration=long", ["E-Akte"]),
        ("duration=short", ["Video calls"]),
        ("language=en", ["Video calls"]),
        ("tag=sicherheit", ["Phishing erkennen"]),
        ("q=akte&tag=sicherheit", []),
    ],
)
def test_each_filter_narrows_the_catalogue(client, learner, courses, query, titles):
    assert found(client, query) == titles


def test_filters_offer_only_what_published_courses_hold(client, learner, courses):
    courses["english"].archived = True
    db.session.commit()
    html = client.get("/courses/").get_data(as_text=True)
    assert '<option value="en">' not in html and '<option value="2.1">' not in html
    assert '<option value="video">' not in html
    assert '<option value="de">' in html and '<option value="2.4">' in html and '<option value="sicherheit">' in html


def test_the_filter_selects_render_as_the_shared_select_macro_does(app, learner, courses):
    with app.test_request_context("/courses/?area=4&tag=sicherheit&duration=nonsense"):
        form = CatalogueFilterForm(request.args)
        form.fill_choices(services.filter_choices(services.catalogue_courses()))
        form.validate()
        assert form.duration.errors  # an error message and its aria attributes, too
        ours = get_template_attribute("catalog/_filters.html", "filter_form")(form, True)
        shared = render_template_string(
            '{% from "_macros.html" import select %}{% for name in names %}{{ select(form[name]) }}{% endfor %}',
            form=form,
            names=["area", "competence", "duration", "language", "tag"],
        )
    assert squeeze(shared) in squeeze(ours)


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def without_csrf_tokens(html: str) -> str:
    """The page without its CSRF tokens, which carry a timestamp and differ from second to second."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', html)


def test_the_kept_unfiltered_form_is_the_one_a_request_would_render(client, learner, courses):
    kept = without_csrf_tokens(client.get("/courses/").get_data(as_text=True))  # the second time from the cache
    assert without_csrf_tokens(client.get("/courses/").get_data(as_text=True)) == kept
    fresh = without_csrf_tokens(client.get("/courses/?q=").get_data(as_text=True))  # nothing chosen, rendered anew
    assert squeeze(kept) == squeeze(fresh)


def test_the_unfiltered_form_follows_a_new_version_and_the_language(client, make_user, sign_in, courses):
    sign_in(make_user(locale="de"))
    assert '<option value="phishing">' not in client.get("/courses/").get_data(as_text=True)
    course = courses["phishing"]
    course.tag_rows[0].tag = "phishing"
    course.version += 1
    db.session.commit()
    html = client.get("/courses/").get_data(as_text=True)
    assert '<option value="phishing">' in html and "Alle Themen" in html
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/learning/"))})
    sign_in(make_user(locale="en"))
    html = client.get("/courses/").get_data(as_text=True)
    assert "All topics" in html and "Alle Themen" not in html
