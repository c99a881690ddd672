"""Imports every domain's models, so metadata (and Alembic) sees all tables."""
from lms.auth.models import AuthSession, LoginThrottle  # noqa: F401
from lms.people.models import Department, JobRole, User, UserRole  # noqa: F401
