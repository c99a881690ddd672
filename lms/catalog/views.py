"""The catalogue and course media."""

import weakref

from flask import Blueprint, abort, current_app, get_template_attribute, render_template, request
from flask_babel import get_locale
from markupsafe import Markup, escape

from lms.catalog import services
from lms.catalog.forms import CatalogueFilterForm
from lms.catalog.outline import CourseOutline, LruCache
from lms.common.access import signed_in

bp = Blueprint("catalog", __name__)

# Rendered pieces that are the same for everybody who sees the same course versions in the same
# language are kept instead of rendered again. A course's card (without progress) is kept
# beside its snapshot and forgotten with it; the filter form as it first appears is kept for
# the tuple of snapshots it offers (snapshots hash by identity, and the key holds them).
_cards: weakref.WeakKeyDictionary[CourseOutline, dict[str, Markup]] = weakref.WeakKeyDictionary()
_unfiltered_forms: LruCache[tuple, Markup] = LruCache(limit=16)


@bp.app_template_global()
def cached_course_card(course: CourseOutline) -> Markup:
    by_language = _cards.setdefault(course, {})
    language = str(get_locale())
    if language not in by_language:
        by_language[language] = get_template_attribute("catalog/_course_card.html", "course_card")(course)
    return by_language[language]


@bp.app_template_global()
def select_options(field) -> Markup:
    """The <option>s of a select field as WTForms renders them, built in one go: the catalogue's
    filters have dozens of options, and rendered one by one they cost a tenth of the page.
    Choices may be SelectChoice objects or (value, label) pairs; optgroups and per-option
    attributes, which the filters do not use, are not rendered."""
    options = []
    for choice in field.choices:
        value, label = (choice.value, choice.label) if hasattr(choice, "value") else choice
        selected = " selected" if value == field.data else ""
        options.append(f'<option{selected} value="{escape(value)}">{escape(label)}</option>')
    return Markup("".join(options))


def _filter_form(courses: list[CourseOutline]) -> CatalogueFilterForm:
    form = CatalogueFilterForm(request.args)
    form.fill_choices(services.filter_choices(courses))
    form.validate()
    return form


def _filters_html(form: CatalogueFilterForm, filtered: bool) -> Markup:
    return get_template_attribute("catalog/_filters.html", "filter_form")(form, filtered)


def _unfiltered_filters(courses: list[CourseOutline]) -> Markup:
    key = (str(get_locale()), tuple(courses))
    return _unfiltered_forms.get(key) or _unfiltered_forms.put(key, _filters_html(_filter_form(courses), False))


@bp.get("/courses/")
@signed_in
def catalogue():
    courses = services.catalogue_courses()
    if not request.args:
        return render_template("catalog/catalogue.html", filters=_unfiltered_filters(courses), courses=courses)
    form = _filter_form(courses)
    criteria = services.CatalogueFilter(
        query=form.q.data or None,
        area=form.area.data or None,
        competence=form.competence.data or None,
        duration=form.duration.data or None,
        language=form.language.data or None,
        tag=form.tag.data or None,
    )
    return render_template(
        "catalog/catalogue.html",
        filters=_filters_html(form, filtered=any(vars(criteria).values())),
        courses=services.search_catalogue(criteria, courses),
    )


@bp.get("/courses/<slug>/media/<path:path>")
@signed_in
def media(slug: str, path: str):
    item = services.media_file(slug, path)
    if item is None:
        abort(404)
    response = current_app.response_class(item.data, mimetype=item.content_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.set_etag(item.sha256)
    return response.make_conditional(request)
