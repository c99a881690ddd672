"""Demo competence data: target profiles per job role, a few individual targets, confirmed
assessments by managers and self-assessments, so profiles, the matrix and the gaps show something."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from lms.common.dates import utcnow
from lms.common.vocabulary import EvidenceType
from lms.extensions import db
from lms.frameworks.models import Competence
from lms.frameworks.services import default_framework
from lms.people.models import JobRole, User
from lms.skills.models import Assessment, SelfAssessment
from lms.targets.models import JobRoleTarget, PersonalTarget

# Every job role needs the basics of safety and data protection; the rest by the work it does.
COMMON_TARGETS = {"4.1": 3, "4.2": 3, "2.1": 2, "1.3": 2}
ROLE_TARGETS = {
    "SB-BB": {"2.3": 4, "2.6": 3, "5.1": 2},
    "SB-ORD": {"1.2": 3, "2.4": 2},
    "VD-ORD": {"2.1": 2},
    "SB-PERS": {"4.2": 4, "3.1": 3},
    "IT-ADM": {"4.1": 5, "5.1": 5, "3.4": 3, "5.2": 4},
    "SB-FIN": {"1.3": 3, "3.1": 3},
    "KASSE": {"4.1": 4, "1.3": 3},
    "SB-SOZ": {"4.2": 4, "2.3": 3},
    "SB-KITA": {"2.4": 3, "3.1": 2},
    "PLAN": {"1.1": 4, "3.2": 3, "5.3": 3},
    "BAU": {"1.3": 3, "2.4": 3},
    "ASS": {"3.1": 3, "2.4": 3},
}
RECERT = {"4.1": 24, "4.2": 24}  # safety and data protection: to be shown again every two years
# What a manager's confirmation is based on, with a note the person reads (the note is optional).
DEMO_EVIDENCE = [
    (EvidenceType.OBSERVED_AT_WORK, "Im Arbeitsalltag beobachtet"),
    (EvidenceType.WORK_SAMPLE, "Serienbrief mit Datenquelle selbst erstellt"),
    (EvidenceType.CERTIFICATE, ""),
    (EvidenceType.EXTERNAL_COURSE, "Fortbildung beim Studieninstitut"),
    (EvidenceType.IN_PERSON_SESSION, ""),
]


def seed_skills(employees: list[User], managers: list[User], rng: random.Random) -> None:
    framework = default_framework()
    if framework is None or db.session.scalar(select(func.count()).select_from(JobRoleTarget)):
        return
    competences = {
        c.code: c
        for c in db.session.execute(select(Competence).where(Competence.framework_id == framework.id)).scalars()
    }
    for job_role in db.session.execute(select(JobRole)).scalars():
        targets = {**COMMON_TARGETS, **ROLE_TARGETS.get(job_role.code, {})}
        for code, level in targets.items():
            db.session.add(
                JobRoleTarget(
                    job_role_id=job_role.id,
                    competence_id=competences[code].id,
                    level=level,
                    recert_months=RECERT.get(code),
                )
            )
    now = utcnow()
    assessor = managers[0] if managers else None
    for index, person in enumerate(employees):
        if index % 9 == 0:
            db.session.add(
                PersonalTarget(
                    user_id=person.id,
                    competence_id=competences["5.4"].id,
                    level=3,
                    note="Vereinbart im Mitarbeitendengespräch",
                    set_by_id=assessor.id if assessor else None,
                )
            )
        for code in rng.sample(sorted(competences), k=rng.randint(1, 4)):
            evidence_type, note = rng.choice(DEMO_EVIDENCE)
            db.session.add(
                Assessment(
                    user_id=person.id,
                    competence_id=competences[code].id,
                    level=rng.choice((2, 3, 3, 4, 5)),
                    evidence_type=evidence_type,
                    note=note,
                    assessed_by_id=assessor.id if assessor else None,
                    assessed_on=(now - timedelta(days=rng.randint(10, 600))).date(),
                )
            )
        for code in rng.sample(sorted(competences), k=rng.randint(0, 6)):
            db.session.add(
                SelfAssessment(
                    user_id=person.id,
                    competence_id=competences[code].id,
                    level=rng.randint(1, 6),
                    assessed_at=now - timedelta(days=rng.randint(1, 90)),
                    shared=rng.random() < 0.3,  # some people show some estimates to their manager
                )
            )
    db.session.flush()
