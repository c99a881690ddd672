"""The catalogue and course media."""

from flask import Blueprint, abort, current_app, render_template, request

from lms.catalog import services
from lms.catalog.forms import CatalogueFilterForm
from lms.common.access import signed_in

bp = Blueprint("catalog", __name__)


@bp.get("/courses/")
@signed_in
def catalogue():
    form = CatalogueFilterForm(request.args)
    form.fill_choices(services.filter_choices())
    form.validate()
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
        form=form,
        courses=services.search_catalogue(criteria),
        filtered=any(vars(criteria).values()),
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
