"""Which groups the gap figures have: scopes, and deactivated departments and job roles."""

from __future__ import annotations

import pytest

from lms.extensions import db
from lms.gaps import services as gaps


def test_unknown_scopes_are_refused_by_name(database):
    with pytest.raises(ValueError, match="^unknown scope: team, unit$"):
        gaps.group_figures([], ["all", "unit", "team"])


def test_deactivated_departments_and_job_roles_count_only_while_someone_active_is_in_them(
    database, make_department, make_job_role, make_user
):
    closed = make_department(code="ALT")
    closed_below = make_department(code="ALT.1", parent=closed)
    empty = make_department(code="LEER")
    old_role, unused_role = make_job_role(code="ALT", title="Alt"), make_job_role(code="UNGENUTZT", title="Ungenutzt")
    for item in (closed, closed_below, empty, old_role, unused_role):
        item.active = False
    db.session.commit()
    make_user(department=closed_below, job_role=old_role)
    make_user(department=empty, job_role=unused_role, active=False)

    groups = gaps.group_figures([], ["department", "job_role"], minimum=1)
    assert [(g.scope, g.scope_id, g.people, g.depth) for g in groups] == [
        ("department", closed.id, 1, 0),
        ("department", closed_below.id, 1, 1),
        ("job_role", old_role.id, 1, 0),
    ]
