from __future__ import annotations

from markupsafe import Markup
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.common.columns import intpk, timestamp
from lms.common.dates import utcnow
from lms.extensions import Model
from lms.frameworks.models import Competence


class Course(Model):
    """A micro-course imported from courses/<slug>/. HTML fields hold sanitised, rendered Markdown."""

    __tablename__ = "courses"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(1000))
    language: Mapped[str] = mapped_column(String(5), default="de")
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    pass_score: Mapped[int] = mapped_column(Integer, default=80)
    valid_months: Mapped[int | None] = mapped_column(Integer)
    # The final check: this many questions drawn from all of the course's; completion needs it passed.
    final_draw: Mapped[int | None] = mapped_column(Integer)
    final_pass_score: Mapped[int | None] = mapped_column(Integer)
    intro_html: Mapped[str] = mapped_column(Text, default="")
    # Raised on every change of content; completions remember the version they were earned on.
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str | None] = mapped_column(String(500))
    # The content hash of the course's folder as `courses sync` last saw it: when the folder still
    # has it but the course moved on, the newer edits were made in the browser (docs/authoring.md).
    files_hash: Mapped[str | None] = mapped_column(String(64))
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course",
        order_by="Lesson.position",
        cascade="all, delete-orphan",
        primaryjoin="and_(Lesson.course_id == Course.id, Lesson.variant == '')",
    )
    # The lessons of the course's variants (e.g. in Einfache Sprache), beside the course's own.
    variant_lessons: Mapped[list[Lesson]] = relationship(
        order_by="Lesson.position",
        cascade="all, delete-orphan",
        primaryjoin="and_(Lesson.course_id == Course.id, Lesson.variant != '')",
        overlaps="lessons,course",
    )
    variants: Mapped[list[CourseVariant]] = relationship(cascade="all, delete-orphan", order_by="CourseVariant.code")
    tag_rows: Mapped[list[CourseTag]] = relationship(cascade="all, delete-orphan", order_by="CourseTag.tag")
    competence_rows: Mapped[list[CourseCompetence]] = relationship(cascade="all, delete-orphan")
    media: Mapped[list[CourseMedia]] = relationship(cascade="all, delete-orphan")

    @property
    def intro(self) -> Markup:
        """The introduction as HTML; safe because it was sanitised with nh3 when it was imported."""
        return Markup(self.intro_html)

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class CourseTag(Model):
    __tablename__ = "course_tags"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class CourseCompetence(Model):
    """The level of a competence a learner reaches by completing the course."""

    __tablename__ = "course_competences"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer)

    competence: Mapped[Competence] = relationship()


class CourseVariant(Model):
    """The course for another audience (e.g. in Einfache Sprache): its own title, summary and
    introduction, and the same lessons rewritten (lessons with this `variant`). A learner may
    switch; progress and completion are the course's."""

    __tablename__ = "course_variants"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(1000))
    intro_html: Mapped[str] = mapped_column(Text, default="")


class Lesson(Model):
    """A lesson, identified within its course by its file name without .md (its key); a variant's
    lesson has the same key and its variant's code."""

    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("course_id", "variant", "key"),)

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    variant: Mapped[str] = mapped_column(String(40), default="", server_default="")  # "": the course's own
    key: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body_html: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    draw: Mapped[int | None] = mapped_column(Integer)  # questions asked per attempt; None: all
    # The author's stable id (front matter `id`): a renamed or moved file is still this lesson.
    uid: Mapped[str | None] = mapped_column(String(40))

    course: Mapped[Course] = relationship(back_populates="lessons", overlaps="variant_lessons")

    @property
    def body(self) -> Markup:
        """The lesson as HTML; safe because it was sanitised with nh3 when it was imported."""
        return Markup(self.body_html)

    questions: Mapped[list[QuizQuestion]] = relationship(
        back_populates="lesson", order_by="QuizQuestion.position", cascade="all, delete-orphan"
    )


class QuizQuestion(Model):
    """A quiz question. `answers` is a list of {"text": str, "correct": bool}; texts are plain text."""

    __tablename__ = "quiz_questions"

    id: Mapped[intpk]
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    answers: Mapped[list] = mapped_column(JSON)
    explanation: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10), default="multiple", server_default="multiple")  # or single
    shuffle: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Same hash, same question: learners' answers to it survive a re-import.
    content_hash: Mapped[str] = mapped_column(String(64))

    lesson: Mapped[Lesson] = relationship(back_populates="questions")

    @property
    def correct_indexes(self) -> set[int]:
        return {index for index, answer in enumerate(self.answers) if answer.get("correct")}


class CourseMedia(Model):
    """An image from a course's folder, kept in the database so every app server can serve it."""

    __tablename__ = "course_media"
    __table_args__ = (UniqueConstraint("course_id", "path"),)

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CourseVersion(Model):
    """A published state of a course: its folder's files (a zip, as exported), who published it,
    when, why, and who approved it. Completions name the version they were earned on."""

    __tablename__ = "course_versions"
    __table_args__ = (UniqueConstraint("course_id", "number"),)

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(10))  # a VersionOrigin
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    change_note: Mapped[str] = mapped_column(String(1000), default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    files_zip: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class CourseDraft(Model):
    """A course's working copy in the browser (its folder's files, as `files`) and its authoring
    record: owners and a pending review. A course edited only as files has none until someone
    opens it in the editor or an admin names its owners."""

    __tablename__ = "course_drafts"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # of `files`, as lms.catalog.format.content_hash
    updated_at: Mapped[timestamp] = mapped_column(default=utcnow, server_default=func.now())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A request for the four-eyes review: the draft as it was then (its hash) and the note.
    review_hash: Mapped[str | None] = mapped_column(String(64))
    review_note: Mapped[str | None] = mapped_column(String(1000))
    review_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    files: Mapped[list[CourseDraftFile]] = relationship(
        cascade="all, delete-orphan", order_by="CourseDraftFile.path", back_populates="draft"
    )
    owners: Mapped[list[CourseOwner]] = relationship(cascade="all, delete-orphan", order_by="CourseOwner.user_id")
    course: Mapped[Course | None] = relationship()


class CourseDraftFile(Model):
    """One file of a draft's folder (`course.md`, `01-….md`, `media/….png`)."""

    __tablename__ = "course_draft_files"

    draft_id: Mapped[int] = mapped_column(ForeignKey("course_drafts.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(300), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))  # the form's guard against a stale save
    data: Mapped[bytes] = mapped_column(LargeBinary)

    draft: Mapped[CourseDraft] = relationship(back_populates="files")


class CourseOwner(Model):
    __tablename__ = "course_owners"

    draft_id: Mapped[int] = mapped_column(ForeignKey("course_drafts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(10))  # a CourseOwnership
