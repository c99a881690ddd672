"""The privacy notice (Art. 13 GDPR), built from the settings in force: who is responsible, what is
stored and why, who sees what (from the preset and the modules that are on), how long it is kept,
and the person's rights. Its version is a fingerprint of those settings, so a change of them asks
everyone to read it again at their next sign-in."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from lms.common.dates import utcnow
from lms.common.retention import PERIODS, Period
from lms.common.vocabulary import ManagerVisibility, Module, Role
from lms.i18n import _
from lms.people.models import User
from lms.privacy.settings import modules_on, settings_in_force


@dataclass(frozen=True)
class Recipient:
    role: Role
    sees: list[str]  # what this role sees of a person's data, one sentence each


@dataclass(frozen=True)
class Notice:
    version: str
    town: str
    controller_contact: str
    dpo_contact: str
    preset: ManagerVisibility
    min_group_size: int
    modules_on: list[Module]
    retention: list[tuple[Period, int]]
    escalation_days: int
    recipients: list[Recipient]


def notice_version(config: Mapping[str, Any]) -> str:
    """A fingerprint of everything the notice says that a town can set."""
    facts = {
        **settings_in_force(config),
        "town": config["TOWN_NAME"],
        "controller": config.get("CONTROLLER_CONTACT", ""),
        "dpo": config.get("DPO_CONTACT", ""),
        "escalation_days": config.get("REMINDER_ESCALATION_DAYS"),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def current_notice() -> Notice:
    config = current_app.config
    switched_on = modules_on(config)
    return Notice(
        version=notice_version(config),
        town=config["TOWN_NAME"],
        controller_contact=config.get("CONTROLLER_CONTACT", ""),
        dpo_contact=config.get("DPO_CONTACT", ""),
        preset=config["MANAGER_VISIBILITY"],
        min_group_size=config["PRIVACY_MIN_GROUP_SIZE"],
        modules_on=switched_on,
        retention=[(period, config["RETENTION_DAYS"][period.key]) for period in PERIODS],
        escalation_days=config["REMINDER_ESCALATION_DAYS"],
        recipients=recipients(config["MANAGER_VISIBILITY"], switched_on, config["PRIVACY_MIN_GROUP_SIZE"]),
    )


def recipients(preset: ManagerVisibility, switched_on: list[Module], minimum: int) -> list[Recipient]:
    """Who sees what of a person's data, from the preset and the modules that are on."""
    return [
        Recipient(Role.MANAGER, _manager_sees(preset, switched_on)),
        Recipient(Role.HR, _hr_sees(switched_on, minimum)),
        Recipient(Role.TRAINER, _trainer_sees(switched_on, minimum)),
        Recipient(
            Role.ADMIN,
            [_("Your account (name, e-mail address, personnel number, department, job role, roles) and mails to you.")],
        ),
        Recipient(Role.DPO, [_("The audit trail: who looked at or exported whose data, and when.")]),
        Recipient(
            Role.STAFF_COUNCIL,
            [_("The settings on this page and how often data was looked at, per month and role, without names.")],
        ),
    ]


def _manager_sees(preset: ManagerVisibility, switched_on: list[Module]) -> list[str]:
    sees = []
    if Module.TEAM in switched_on:
        sees.append(_("Whether you completed your mandatory trainings (if you work in a department they head)."))
    if preset == ManagerVisibility.LEVELS and Module.SKILLS in switched_on:
        sees.append(_("Your competence levels and their evidence (if you work in a department they head)."))
    else:
        sees.append(_("No competence levels of individual people; at most totals of groups."))
    sees.append(_("The course assignments for their departments, with whether each person completed the course."))
    sees.append(_("That a mandatory training of yours is overdue, by mail, after the escalation period."))
    return sees


def _hr_sees(switched_on: list[Module], minimum: int) -> list[str]:
    sees = [_("Your account data, your course assignments and your individual targets.")]
    if Module.SKILLS in switched_on:
        sees.append(_("Your competence levels and their evidence, also in the skill matrix and its export."))
    if Module.COMPLIANCE in switched_on:
        sees.append(
            _(
                "Figures per department about mandatory trainings; groups of fewer than %(n)d people are hidden.",
                n=minimum,
            )
        )
    if Module.GAPS in switched_on:
        sees.append(_("Totals of competence gaps; groups of fewer than %(n)d people are hidden.", n=minimum))
    return sees


def _trainer_sees(switched_on: list[Module], minimum: int) -> list[str]:
    if Module.TRAINER_FIGURES in switched_on:
        return [
            _("Totals about their courses and quiz questions; groups of fewer than %(n)d people are hidden.", n=minimum)
        ]
    return [_("No data about learners.")]


def has_read_current(user: User) -> bool:
    return user.privacy_notice_read == notice_version(current_app.config)


def acknowledge(user: User, now: datetime | None = None) -> None:
    """The person confirms having read the notice's current version (kept with the time)."""
    user.privacy_notice_read = notice_version(current_app.config)
    user.privacy_notice_read_at = now or utcnow()
