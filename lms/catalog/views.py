"""The catalogue, course media, and the trainers' course overview."""

from flask import Blueprint, abort, current_app, render_template, request

from lms.auth.access import roles_required, signed_in
from lms.catalog import services
from lms.catalog.forms import CatalogueFilterForm

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


@bp.get("/trainer/")
@roles_required("trainer")
def trainer_courses():
    return render_template(
        "catalog/trainer_courses.html",
        figures=services.course_figures(),
        min_group=current_app.config["PRIVACY_MIN_GROUP_SIZE"],
    )
