"""My team: the people of the departments a manager heads."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from lms.common.access import roles_required
from lms.common.vocabulary import Role
from lms.extensions import db
from lms.people import services as people
from lms.privacy.services import may_see_individual_levels

bp = Blueprint("team", __name__)


@bp.get("/team/")
@roles_required(Role.MANAGER)
def my_team():
    page = db.paginate(people.team_query(current_user), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "team/my_team.html",
        page=page,
        departments=current_user.headed_departments,
        show_profiles=may_see_individual_levels(current_user),
    )
