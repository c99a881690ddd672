from __future__ import annotations

from datetime import date

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, Date, ForeignKey, String, Table, false, func, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.common.columns import intpk, str200, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model, db

department_heads = Table(
    "department_heads",
    db.metadata,
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Department(Model):
    __tablename__ = "departments"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str200]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    parent: Mapped[Department | None] = relationship(remote_side="Department.id", back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent", order_by="Department.code")
    heads: Mapped[list[User]] = relationship(secondary=department_heads, back_populates="headed_departments")

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class JobRole(Model):
    __tablename__ = "job_roles"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str200]
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def __repr__(self) -> str:
        return f"<JobRole {self.code}>"


class UserRole(Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    personnel_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The day the person was deactivated: their retention period (people_who_left) runs from it.
    left_on: Mapped[date | None] = mapped_column(Date)
    # The exit date from the HR system's export (lms/people/hr_import.py); once it has come, the
    # import or the daily job deactivates the person with it as `left_on`.
    leaves_on: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str | None] = mapped_column(String(5))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set while the password is an admin-issued one-time password: it cannot sign in after this.
    password_expires_at: Mapped[timestamp | None]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"), index=True)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    last_login_at: Mapped[timestamp | None]
    # The version of the privacy notice the person confirmed having read, and when (Art. 13 GDPR).
    privacy_notice_read: Mapped[str | None] = mapped_column(String(16))
    privacy_notice_read_at: Mapped[timestamp | None]

    department: Mapped[Department | None] = relationship()
    job_role: Mapped[JobRole | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    headed_departments: Mapped[list[Department]] = relationship(
        secondary=department_heads, back_populates="heads", order_by=Department.code
    )

    # Flask-Login stores the id of the server-side session, not of the user (see lms.auth).
    session_token = None  # type: str | None  # (a comment, not an annotation: SQLAlchemy maps no column)

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def sort_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def __repr__(self) -> str:
        return f"<User {self.email}>"
