"""Imports every domain's models, so metadata (and Alembic) sees all tables."""

from lms.auth.models import AuthSession, LoginThrottle  # noqa: F401
from lms.catalog.models import Course, CourseCompetence, CourseMedia, CourseTag, Lesson, QuizQuestion  # noqa: F401
from lms.learning.models import Completion, Enrollment, LessonProgress, QuizResponse  # noqa: F401
from lms.people.models import Department, JobRole, User, UserRole  # noqa: F401
from lms.privacy.models import AuditEntry  # noqa: F401
from lms.skills.models import (  # noqa: F401
    Assessment,
    Competence,
    CompetenceArea,
    Framework,
    JobRoleTarget,
    PersonalTarget,
    ProficiencyLevel,
    SelfAssessment,
    SkillSnapshot,
)
