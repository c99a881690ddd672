"""The course editor: thin views over `services` and `publishing`. Every view checks the role
(decorator) and the course (`_readable` / `_editable`); every change is a POST with CSRF."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from lms.authoring import access, publishing, services
from lms.authoring.forms import (
    ANSWER_ROWS,
    ImageForm,
    ImportForm,
    LessonForm,
    NewCourseForm,
    NewLessonForm,
    OwnerForm,
    PublishForm,
    QuestionForm,
)
from lms.authoring.settings import SettingsFormWithLevels, competence_rows, fill_settings_form, settings_from_form
from lms.authoring.sources import key_of, read_lesson
from lms.catalog.bundle import MAX_ZIP_BYTES, BundleError
from lms.catalog.markdown import course_image_url, render_markdown
from lms.catalog.media import MAX_MEDIA_BYTES
from lms.catalog.versions import version, version_files, versions_of
from lms.common.access import roles_required
from lms.common.forms import attach_errors
from lms.common.uploads import accepts_upload
from lms.common.vocabulary import CourseOwnership, Role, VersionOrigin
from lms.extensions import db
from lms.i18n import _
from lms.people.models import User

bp = Blueprint("authoring", __name__, url_prefix="/authoring")
T = TypeVar("T")
bp.add_app_template_global(lambda origin: VersionOrigin(origin).label, "origin_label")
READERS = access.READERS
AUTHORS = access.AUTHORS


def _readable(slug: str) -> services.Workspace:
    try:
        space = services.workspace(slug)
    except services.FilesUnavailable:
        abort(404)
    if space is None:
        abort(404)
    if space.course is None and not (
        access.may_edit(current_user, space.draft) or access.may_review(current_user, space.draft)
    ):
        abort(404)  # an unpublished course is its authors' (and, once asked, its reviewers') until published
    return space


def _editable(slug: str) -> services.Workspace:
    space = _readable(slug)
    if not access.may_edit(current_user, space.draft):
        abort(403)
    return space


def _lesson_or_404(space: services.Workspace, ref: str) -> str:
    return space.lesson_path(ref) or abort(404)


def _back(slug: str, anchor: str = ""):
    return redirect(url_for(".course", slug=slug) + anchor)


# -- the list and new courses


@bp.get("/")
@roles_required(*READERS)
def index():
    courses, drafts = services.all_courses()
    unpublished = [
        draft for draft in drafts.values() if draft.course_id is None and access.may_edit(current_user, draft)
    ]
    return render_template(
        "authoring/index.html",
        courses=courses,
        drafts=drafts,
        unpublished=unpublished,
        may_create=access.may_create(current_user),
        may_edit=lambda draft: access.may_edit(current_user, draft),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new_course():
    form = NewCourseForm()
    if form.validate_on_submit():
        try:
            space = services.create_course(
                current_user, form.slug.data, form.title.data, form.summary.data, form.language.data
            )
        except services.FieldError as error:
            attach_errors(form, {error.field: error.message})
        else:
            db.session.commit()
            flash(_("The course was created as a draft. Add its lessons, then publish it."), "success")
            return _back(space.slug)
    return render_template("authoring/new_course.html", form=form)


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*AUTHORS)
@accepts_upload(MAX_ZIP_BYTES + 64 * 1024)
def import_course():
    form = ImportForm()
    if form.validate_on_submit():
        space = _import(form)
        if space is not None:
            db.session.commit()
            flash(_("The zip file is now the course's draft. Check it, then publish it."), "success")
            return _back(space.slug)
    return render_template("authoring/import.html", form=form)


def _import(form: ImportForm) -> services.Workspace | None:
    upload = form.archive.data
    if not upload:
        attach_errors(form, {"archive": _("Choose a zip file.")})
        return None
    try:
        data = upload.read()
        return publishing.import_zip(_importable, current_user, data, replace=form.replace.data)
    except BundleError as error:
        attach_errors(form, {"archive": str(error.lazy)})
    except services.FieldError as error:
        attach_errors(form, {error.field: error.message})
    return None


def _importable(slug: str) -> services.Workspace | None:
    try:
        space = services.workspace(slug)
    except services.FilesUnavailable:
        space = services.workspace_without_files(slug)  # the zip brings them
    if space is not None and not access.may_edit(current_user, space.draft):
        abort(403)
    return space


# -- a course


@bp.get("/<slug>/")
@roles_required(*READERS)
def course(slug: str):
    space = _readable(slug)
    report = publishing.check(space)
    owners = services.owners_of(space)
    return render_template(
        "authoring/course.html",
        space=space,
        report=report,
        owners=owners,
        may_edit=access.may_edit(current_user, space.draft),
        may_manage_owners=access.may_manage_owners(current_user, space.draft),
        may_approve=access.may_approve(current_user, space.draft),
        review_required=current_app.config["COURSE_REVIEW_REQUIRED"],
        new_lesson_form=NewLessonForm(),
        image_form=_image_form(space),
        publish_form=PublishForm(),
        owner_form=_owner_form(),
        requested_by=services.review_requester(space),
    )


def _image_form(space: services.Workspace) -> ImageForm:
    form = ImageForm(formdata=None)
    form.lesson.choices = _lesson_choices(space)
    return form


def _lesson_choices(space: services.Workspace) -> list[SelectChoice]:
    return [SelectChoice("", _("None (I insert it myself)"))] + [
        SelectChoice(key_of(path), lesson.title or key_of(path)) for path, lesson in space.lessons()
    ]


def _owner_form() -> OwnerForm:
    form = OwnerForm(formdata=None)
    trainers = services.active_trainers()
    form.user_id.choices = [SelectChoice(user.id, f"{user.name} ({user.email})") for user in trainers]
    form.kind.choices = [SelectChoice(kind.value, kind.label) for kind in CourseOwnership]
    return form


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@roles_required(*READERS)
def settings(slug: str):
    space = _readable(slug)
    editable = access.may_edit(current_user, space.draft)
    form = SettingsFormWithLevels.for_framework()
    conflict = None
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate():
            try:
                services.save_settings(
                    space, current_user, settings_from_form(form), form.intro.data or "", form.base.data or ""
                )
            except services.StaleEdit as stale:
                conflict = stale.current.decode("utf-8", errors="replace")
                form.base.data = services.base_of(space, "course.md")
            else:
                db.session.commit()
                flash(_("The settings were saved in the draft."), "success")
                return _back(slug)
    else:
        fill_settings_form(form, space.course_file())
        form.base.data = services.base_of(space, "course.md")
    return render_template(
        "authoring/settings.html",
        space=space,
        form=form,
        rows=competence_rows(form),
        editable=editable,
        conflict=conflict,
    )


@bp.post("/<slug>/lessons")
@roles_required(*AUTHORS)
def add_lesson(slug: str):
    space = _editable(slug)
    form = NewLessonForm()
    if not form.validate():
        flash(_("Give the lesson a title."), "error")
        return _back(slug, "#lessons")
    try:
        uid = services.add_lesson(space, current_user, form.title.data)
    except services.FieldError as error:
        flash(error.message, "error")
        return _back(slug, "#lessons")
    db.session.commit()
    return redirect(url_for(".lesson", slug=slug, ref=uid))


@bp.route("/<slug>/lessons/<ref>", methods=["GET", "POST"])
@roles_required(*READERS)
def lesson(slug: str, ref: str):
    space = _readable(slug)
    path = _lesson_or_404(space, ref)
    editable = access.may_edit(current_user, space.draft)
    lesson_file = read_lesson(space.files[path], path)
    form = LessonForm()
    preview = conflict = None
    if request.method == "POST":
        if not editable:
            abort(403)
        if request.form.get("action") == "preview":
            preview = render_preview(space, form.body.data or "")
        elif form.validate():
            try:
                services.save_lesson(
                    space,
                    current_user,
                    path,
                    title=form.title.data,
                    body=form.body.data or "",
                    draw=form.draw.data,
                    base_sha=form.base.data or "",
                )
            except services.StaleEdit as stale:
                conflict = read_lesson(stale.current, path)
                form.base.data = services.base_of(space, path)
            except services.FieldError as error:
                attach_errors(form, {error.field: error.message})
            else:
                db.session.commit()
                flash(_("The lesson was saved in the draft."), "success")
                return redirect(url_for(".lesson", slug=slug, ref=ref))
    else:
        form.title.data, form.body.data = lesson_file.title, lesson_file.body
        form.draw.data = lesson_file.meta.get("draw") if isinstance(lesson_file.meta.get("draw"), int) else None
        form.base.data = services.base_of(space, path)
    return render_template(
        "authoring/lesson.html",
        space=space,
        path=path,
        ref=ref,
        lesson=lesson_file,
        form=form,
        preview=preview,
        conflict=conflict,
        editable=editable,
    )


def render_preview(space: services.Workspace, markdown_text: str) -> Markup:
    """The lesson text as learners will see it: the import's renderer and sanitiser; images from the draft."""
    media = {path[len("media/") :] for path in space.files if path.startswith("media/")}

    def resolve(src: str) -> str | None:
        url, _problem = course_image_url(src, space.slug, media, space.files)
        if url is None:
            return None
        return url_for(".draft_file", slug=space.slug, path="media/" + url.rsplit("/media/", 1)[1])

    return Markup(render_markdown(markdown_text, resolve))  # sanitised with nh3 by render_markdown


@bp.post("/<slug>/preview")
@roles_required(*AUTHORS)
def preview(slug: str):
    space = _editable(slug)
    return render_template("authoring/_preview.html", preview=render_preview(space, request.form.get("body", "")))


@bp.post("/<slug>/lessons/<ref>/move")
@roles_required(*AUTHORS)
def move_lesson(slug: str, ref: str):
    space = _editable(slug)
    path = _lesson_or_404(space, ref)
    services.move_lesson(space, current_user, path, -1 if request.form.get("direction") == "up" else 1)
    db.session.commit()
    return _back(slug, "#lessons")


@bp.post("/<slug>/lessons/<ref>/delete")
@roles_required(*AUTHORS)
def delete_lesson(slug: str, ref: str):
    space = _editable(slug)
    path = _lesson_or_404(space, ref)
    return _act(
        slug,
        lambda: services.delete_lesson(space, current_user, path),
        lambda _none: _("The lesson was deleted from the draft."),
        "#lessons",
    )


# -- quiz questions


@bp.route("/<slug>/lessons/<ref>/questions/new", methods=["GET", "POST"], defaults={"index": None})
@bp.route("/<slug>/lessons/<ref>/questions/<int:index>", methods=["GET", "POST"])
@roles_required(*READERS)
def question(slug: str, ref: str, index: int | None):
    space = _readable(slug)
    path = _lesson_or_404(space, ref)
    lesson_file = read_lesson(space.files[path], path)
    if index is not None and not 0 <= index < len(lesson_file.questions):
        abort(404)
    editable = access.may_edit(current_user, space.draft)
    form = QuestionForm()
    conflict = None
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate():
            try:
                services.save_question(space, current_user, path, index, _question_of(form), form.base.data or "")
            except services.StaleEdit as stale:
                conflict = stale.current.decode("utf-8", errors="replace")
                form.base.data = services.base_of(space, path)
            except services.FieldError as error:
                attach_errors(form, {error.field: error.message})
            else:
                db.session.commit()
                flash(_("The question was saved in the draft."), "success")
                return redirect(url_for(".lesson", slug=slug, ref=ref) + "#questions")
    else:
        if index is not None:
            _fill_question(form, lesson_file.questions[index])
        form.base.data = services.base_of(space, path)
    return render_template(
        "authoring/question.html",
        space=space,
        ref=ref,
        lesson=lesson_file,
        index=index,
        form=form,
        editable=editable,
        conflict=conflict,
    )


def _question_of(form: QuestionForm) -> dict:
    answers = [
        {"text": entry.form.text.data, "correct": bool(entry.form.correct.data)}
        for entry in form.answers
        if entry.form.text.data
    ]
    question = {"question": form.question.data, "type": form.kind.data, "answers": answers}
    if not form.shuffle.data:
        question["shuffle"] = False
    if form.explanation.data:
        question["explanation"] = form.explanation.data
    return question


def _fill_question(form: QuestionForm, question: dict) -> None:
    form.question.data = str(question.get("question", ""))
    form.kind.data = question.get("type") or "multiple"
    form.shuffle.data = question.get("shuffle", True) is not False
    form.explanation.data = str(question.get("explanation") or "")
    answers = question.get("answers") or []
    for entry, answer in zip(form.answers, answers[:ANSWER_ROWS], strict=False):
        if isinstance(answer, dict):
            entry.form.text.data = str(answer.get("text", ""))
            entry.form.correct.data = bool(answer.get("correct"))


@bp.post("/<slug>/lessons/<ref>/questions/<int:index>/delete")
@roles_required(*AUTHORS)
def delete_question(slug: str, ref: str, index: int):
    space = _editable(slug)
    path = _lesson_or_404(space, ref)
    if not 0 <= index < len(read_lesson(space.files[path], path).questions):
        abort(404)
    try:
        services.delete_question(space, current_user, path, index, request.form.get("base", ""))
    except services.StaleEdit:
        flash(_("The lesson changed since you opened it. Look at its questions again, then delete."), "error")
    else:
        db.session.commit()
        flash(_("The question was deleted from the draft."), "success")
    return redirect(url_for(".lesson", slug=slug, ref=ref) + "#questions")


# -- images


@bp.post("/<slug>/images")
@roles_required(*AUTHORS)
@accepts_upload(MAX_MEDIA_BYTES + 64 * 1024)
def add_image(slug: str):
    space = _editable(slug)
    form = ImageForm()
    form.lesson.choices = _lesson_choices(space)
    if form.validate():
        upload = form.image.data
        lesson_path = space.lesson_path(form.lesson.data) if form.lesson.data else None
        try:
            path = services.add_image(
                space, current_user, upload.filename or "", upload.read(), form.alt.data, lesson_path
            )
        except services.FieldError as error:
            attach_errors(form, {error.field: error.message})
        else:
            db.session.commit()
            flash(_("The image %(name)s was added to the draft.", name=path), "success")
            return _back(slug, "#images")
    return render_template("authoring/image.html", space=space, form=form), 400


@bp.post("/<slug>/images/delete")
@roles_required(*AUTHORS)
def delete_image(slug: str):
    space = _editable(slug)
    path = request.form.get("path", "")
    if path not in space.images():
        abort(404)
    try:
        services.delete_image(space, current_user, path)
    except services.FieldError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
    return _back(slug, "#images")


@bp.get("/<slug>/files/<path:path>")
@roles_required(*READERS)
def draft_file(slug: str, path: str):
    """An image of the draft, for the editor's preview (published images: the catalogue serves them)."""
    space = _readable(slug)
    if not path.startswith("media/") or path not in space.files:
        abort(404)
    from lms.catalog.media import MEDIA_TYPES

    suffix = "." + path.rsplit(".", 1)[-1].lower()
    response = current_app.response_class(
        space.files[path], mimetype=MEDIA_TYPES.get(suffix, "application/octet-stream")
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# -- publication and review


def _act(slug: str, action: Callable[[], T], success: Callable[[T], str], anchor: str = ""):
    """Run a service action: its refusal is flashed and the page shown again at `anchor`;
    else commit once and say what was done."""
    try:
        result = action()
    except services.FieldError as error:
        flash(error.message, "error")
        return _back(slug, anchor)
    db.session.commit()
    flash(success(result), "success")
    return _back(slug)


@bp.post("/<slug>/publish")
@roles_required(*AUTHORS)
def publish(slug: str):
    space = _editable(slug)
    if current_app.config["COURSE_REVIEW_REQUIRED"]:
        abort(403)  # the review publishes (approve)
    note = PublishForm().note.data or ""
    return _act(
        slug,
        lambda: publishing.publish(space, current_user, note),
        lambda version: _("Version %(number)d is published.", number=version.number),
        "#publish",
    )


@bp.post("/<slug>/review")
@roles_required(*AUTHORS)
def request_review(slug: str):
    space = _editable(slug)
    note = PublishForm().note.data or ""
    return _act(
        slug,
        lambda: publishing.request_review(space, current_user, note),
        lambda _none: _("The review was requested. Another trainer approves it and so publishes the course."),
        "#publish",
    )


@bp.post("/<slug>/review/withdraw")
@roles_required(*AUTHORS)
def withdraw_review(slug: str):
    space = _editable(slug)
    publishing.withdraw_review(space)
    db.session.commit()
    return _back(slug)


@bp.post("/<slug>/approve")
@roles_required(*AUTHORS)
def approve(slug: str):
    space = _readable(slug)
    if not access.may_approve(current_user, space.draft):
        abort(403)
    return _act(
        slug,
        lambda: publishing.approve(space, current_user),
        lambda version: _("Version %(number)d is approved and published.", number=version.number),
        "#publish",
    )


# -- versions


@bp.get("/<slug>/versions")
@roles_required(*READERS)
def versions(slug: str):
    space = _readable(slug)
    rows = versions_of(space.course.id) if space.course else []
    people = services.people_by_id([row.author_id for row in rows] + [row.approved_by_id for row in rows])
    return render_template(
        "authoring/versions.html",
        space=space,
        versions=rows,
        people=people,
        editable=access.may_edit(current_user, space.draft),
    )


@bp.get("/<slug>/compare")
@roles_required(*READERS)
def compare(slug: str):
    space = _readable(slug)
    before_files, before_label = _state(space, request.args.get("before", ""))
    after_files, after_label = _state(space, request.args.get("after", "draft"))
    return render_template(
        "authoring/compare.html",
        space=space,
        before=before_label,
        after=after_label,
        differences=publishing.difference(slug, before_files, after_files),
        rendered=request.args.get("view") == "rendered",
    )


def _state(space: services.Workspace, which: str) -> tuple[dict[str, bytes], str]:
    """A version's files ("3") or the draft's ("draft")."""
    if which == "draft":
        return space.files, _("Draft")
    if not which.isdigit() or space.course is None or len(which) > 9:
        abort(404)
    found = version(space.course.id, int(which))
    if found is None:
        abort(404)
    return version_files(found), _("Version %(number)d", number=found.number)


@bp.post("/<slug>/versions/<int:number>/restore")
@roles_required(*AUTHORS)
def restore(slug: str, number: int):
    space = _editable(slug)
    if space.changed and request.form.get("confirm") != "yes":
        flash(_("The draft has unpublished changes. Confirm that the restored version replaces them."), "error")
        return redirect(url_for(".versions", slug=slug))
    try:
        publishing.restore(space, current_user, number)
    except services.FieldError as error:
        flash(error.message, "error")
        return redirect(url_for(".versions", slug=slug))
    db.session.commit()
    flash(_("Version %(number)d is now the draft. Publish it to make it the course again.", number=number), "success")
    return _back(slug)


@bp.get("/<slug>/export.zip")
@roles_required(*READERS)
def export(slug: str):
    space = _readable(slug)
    draft = request.args.get("what") == "draft"
    data = publishing.export_zip(space, published=not draft)
    response = current_app.response_class(data, mimetype="application/zip")
    name = f"{slug}-entwurf.zip" if draft else f"{slug}.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# -- owners and the catalogue


@bp.post("/<slug>/owners")
@roles_required(*AUTHORS)
def owners(slug: str):
    space = _readable(slug)
    if not access.may_manage_owners(current_user, space.draft):
        abort(403)
    form = _owner_form()
    form.process(request.form)
    kind = request.form.get("kind", "")
    remove = request.form.get("remove") == "1"
    person = db.session.get(User, form.user_id.data) if form.user_id.data else None
    if person is None or (not remove and kind not in set(CourseOwnership)):
        abort(400)
    if not remove and not person.has_role(Role.TRAINER):
        flash(_("Only trainers can own a course."), "error")
        return _back(slug, "#owners")
    if not current_user.has_role(Role.ADMIN) and (
        kind == CourseOwnership.OWNER or access.ownership(person, space.draft) == CourseOwnership.OWNER
    ):
        abort(403)  # an owner names co-owners; owners are named by admins
    services.set_owner(
        space, person, None if remove else CourseOwnership(kind), actor=current_user, ip_address=request.remote_addr
    )
    db.session.commit()
    return _back(slug, "#owners")


@bp.post("/<slug>/archive")
@roles_required(*AUTHORS)
def archive(slug: str):
    space = _editable(slug)
    if space.course is None:
        abort(404)
    if request.form.get("archive") == "1":
        publishing.take_out_of_catalogue(space)
        flash(_("The course left the catalogue. Completions and certificates stay valid."), "success")
    else:
        publishing.put_back_into_catalogue(space)
        flash(_("The course is in the catalogue again."), "success")
    db.session.commit()
    return _back(slug)
