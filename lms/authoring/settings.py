"""The course settings form: course.md's front matter, with a level per competence of the
installed framework (picked, not typed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from lms.authoring.forms import SettingsForm
from lms.authoring.sources import CourseFile
from lms.extensions import db
from lms.frameworks.models import Competence, ProficiencyLevel
from lms.frameworks.services import default_framework
from lms.i18n import _


class SettingsFormWithLevels(SettingsForm):
    competences: list[Competence] = []

    @classmethod
    def for_framework(cls) -> SettingsFormWithLevels:
        """The form with one level select per competence of the default framework."""
        framework = default_framework()
        competences: list[Competence] = []
        levels: list[int] = []
        if framework is not None:
            competences = list(
                db.session.execute(
                    select(Competence)
                    .where(Competence.framework_id == framework.id, Competence.retired.is_(False))
                    .order_by(Competence.position, Competence.code)
                ).scalars()
            )
            levels = list(
                db.session.execute(
                    select(ProficiencyLevel.level)
                    .where(ProficiencyLevel.framework_id == framework.id)
                    .order_by(ProficiencyLevel.level)
                ).scalars()
            )
        choices = [SelectChoice("", _("Not taught"))] + [SelectChoice(str(level), str(level)) for level in levels]
        fields = {
            f"level_{competence.id}": SelectField(
                f"{competence.code} {competence.t('title')}", choices=choices, default=""
            )
            for competence in competences
        }
        bound = type("BoundSettingsForm", (cls,), fields)
        form = bound()
        form.competences = competences
        return form


def competence_rows(form: SettingsFormWithLevels) -> list:
    return [form[f"level_{competence.id}"] for competence in form.competences]


def fill_settings_form(form: SettingsFormWithLevels, course: CourseFile) -> None:
    meta = course.meta
    form.title.data = str(meta.get("title", ""))
    form.summary.data = str(meta.get("summary", ""))
    form.language.data = str(meta.get("language", "de"))
    form.duration_minutes.data = _number(meta.get("duration_minutes"))
    form.pass_score.data = _number(meta.get("pass_score"))
    form.valid_months.data = _number(meta.get("valid_months"))
    tags = meta.get("tags")
    form.tags.data = ", ".join(str(tag) for tag in tags) if isinstance(tags, list) else ""
    form.intro.data = course.intro
    levels = {}
    for item in meta.get("competences") or []:
        if isinstance(item, dict):
            levels[str(item.get("id"))] = item.get("level")
    for competence in form.competences:
        level = levels.get(competence.code)
        form[f"level_{competence.id}"].data = str(level) if level is not None else ""


def settings_from_form(form: SettingsFormWithLevels) -> dict[str, Any]:
    """The front-matter keys the form sets; empty ones are removed from course.md."""
    tags = [tag.strip() for tag in (form.tags.data or "").split(",") if tag.strip()]
    competences = [
        {"id": competence.code, "level": int(form[f"level_{competence.id}"].data)}
        for competence in form.competences
        if form[f"level_{competence.id}"].data
    ]
    return {
        "title": form.title.data,
        "summary": form.summary.data,
        "language": form.language.data,
        "duration_minutes": form.duration_minutes.data,
        "tags": tags,
        "pass_score": form.pass_score.data,
        "valid_months": form.valid_months.data,
        "competences": competences,
    }


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
