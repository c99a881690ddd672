"""HR's overview of the organisation: headcounts per department and job role."""

from flask import Blueprint, render_template

from lms.common.access import roles_required
from lms.common.vocabulary import Role
from lms.people import services

bp = Blueprint("people", __name__)


@bp.get("/hr/")
@roles_required(Role.HR)
def hr_overview():
    return render_template(
        "people/hr_overview.html",
        counts=services.counts(),
        tree=services.department_tree(include_inactive=False, with_headcount=True),
        job_roles=services.job_roles_with_headcount(),
    )
