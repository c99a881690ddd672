"""Views of people for managers and HR."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from lms.auth.access import roles_required
from lms.extensions import db
from lms.people import services
from lms.privacy.services import may_see_individual_levels

bp = Blueprint("people", __name__)


@bp.get("/team/")
@roles_required("manager")
def my_team():
    page = db.paginate(services.team_query(current_user), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "people/my_team.html",
        page=page,
        departments=current_user.headed_departments,
        show_profiles=may_see_individual_levels(current_user),
    )


@bp.get("/hr/")
@roles_required("hr")
def hr_overview():
    return render_template(
        "people/hr_overview.html",
        counts=services.counts(),
        tree=services.department_tree(include_inactive=False, with_headcount=True),
        job_roles=services.job_roles_with_headcount(),
    )
