"""Lernpfad: digital-skills learning for the staff of a municipal administration."""

from __future__ import annotations

from flask import Flask

from lms.common.urls import BoundedIntConverter
from lms.config import INSTANCE_DIR, PROJECT_ROOT, load_config, production_warnings


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, security, blueprints, commands."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    # Before any route exists: every `<int:...>` is bounded to what the database's integers hold.
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.update(load_config(config))
    _trust_proxies(app)

    from lms import logging_setup, security, web

    logging_setup.init_app(app)
    for warning in production_warnings(app.config):  # allowed in production, but worth a look
        app.logger.warning(warning)
    _init_extensions(app)
    security.init_app(app)
    web.init_app(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind LMS_TRUSTED_PROXIES proxies, take the client's address and scheme from the headers
    they set (the N-th entry from the right, so a client cannot forge it). The Host header is
    taken as the proxy passes it; X-Forwarded-Host is not trusted."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _init_extensions(app: Flask) -> None:
    from lms import models  # noqa: F401  (every model registered before Alembic looks)
    from lms.auth.session_loader import init_login
    from lms.common.uploads import allow_larger_requests
    from lms.extensions import LazyGroup, Migrations, babel, configure_sqlite, csrf, db
    from lms.i18n import select_locale

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    app.extensions["migrate"] = Migrations(db, str(PROJECT_ROOT / "migrations"))
    app.cli.add_command(LazyGroup("db", "flask_migrate.cli:db", help="Database migrations (Alembic)."))
    app.before_request(allow_larger_requests)  # registered first: the CSRF check reads the form
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_login(app)


def _register_blueprints(app: Flask) -> None:
    from lms.admin.views import bp as admin_bp
    from lms.assignments.compliance_views import compliance_bp
    from lms.assignments.events import close_assignments_met_by
    from lms.assignments.views import bp as assignments_bp
    from lms.assignments.views import my_assignments_section
    from lms.auth.directory import role_changed as directory_role_changed
    from lms.auth.twofactor import two_factor_event
    from lms.auth.views import bp as auth_bp
    from lms.authoring.views import bp as authoring_bp
    from lms.catalog.views import bp as catalog_bp
    from lms.change.views import bp as change_bp
    from lms.change.views import my_initiatives_section
    from lms.common.access import access_refused
    from lms.common.sections import register_section
    from lms.core.views import bp as core_bp
    from lms.gaps.views import bp as gaps_bp
    from lms.learning.certificate_views import bp as certificates_bp
    from lms.learning.certificates import issue_on_completion
    from lms.learning.signals import course_completed
    from lms.learning.views import bp as learning_bp
    from lms.notifications.views import bp as notifications_bp
    from lms.people.views import bp as people_bp
    from lms.privacy.services import record_event
    from lms.privacy.views import bp as privacy_bp
    from lms.privacy.views import notice_bp, record_refused_request
    from lms.progress.views import bp as progress_bp
    from lms.sessions.views import bp as sessions_bp
    from lms.sessions.views import course_sessions_section
    from lms.skills.views import bp as skills_bp
    from lms.strategy.views import bp as strategy_bp
    from lms.targets.views import bp as targets_bp
    from lms.team.views import bp as team_bp

    # Lower domains announce, higher ones listen: every refused request (403) goes into the audit
    # trail, a completion closes the assignments it meets, and My learning shows the person's
    # assignments first — though neither the kernel nor learning knows those domains.
    access_refused.connect(record_refused_request)
    two_factor_event.connect(record_event)  # a person's own steps with their second factor (lms.auth.twofactor)
    directory_role_changed.connect(record_event)  # roles granted or removed by the directory's groups
    course_completed.connect(close_assignments_met_by)
    course_completed.connect(issue_on_completion)  # the certificate with its verification code (issue 15)
    register_section(app, "my_learning.top", my_assignments_section)
    register_section(app, "my_learning.top", my_initiatives_section)  # the person's changes and announcements
    register_section(app, "course.aside", course_sessions_section)  # the next sessions of a course
    for blueprint in (
        core_bp,
        auth_bp,
        people_bp,
        admin_bp,
        catalog_bp,
        learning_bp,
        certificates_bp,
        skills_bp,
        targets_bp,
        gaps_bp,
        team_bp,
        privacy_bp,
        notice_bp,
        notifications_bp,
        assignments_bp,
        compliance_bp,
        authoring_bp,
        change_bp,
        sessions_bp,
        strategy_bp,
        progress_bp,
    ):
        app.register_blueprint(blueprint)


def _register_commands(app: Flask) -> None:
    from lms.admin.cli import add_admin, import_people
    from lms.admin.cli import annex as agreement_annex
    from lms.assignments.cli import assignments_cli
    from lms.assignments.reminder_cli import reminders_cli
    from lms.assignments.report_cli import report as compliance_report
    from lms.authoring.cli import owner as course_owner
    from lms.catalog.cli import courses_cli
    from lms.core.backup_cli import backup_cli
    from lms.core.cli import privacy_cli
    from lms.demo.cli import demo_cli
    from lms.frameworks.cli import load_framework
    from lms.gaps.cli import snapshot
    from lms.learning.certificate_cli import certificate_command, revoke_certificate_command
    from lms.notifications.cli import notifications_cli
    from lms.people.cli import people_cli
    from lms.privacy.cli import audit_cli
    from lms.progress.cli import report_cli
    from lms.scheduler import scheduler_cli
    from lms.skills.cli import skills_cli
    from lms.strategy.cli import strategy_cli
    from lms.targets.cli import targets_cli

    # `flask skills ...` gathers the competence commands of four domains under one name.
    for command in (load_framework, targets_cli, snapshot):
        skills_cli.add_command(command)
    assignments_cli.add_command(compliance_report)
    courses_cli.add_command(course_owner)
    courses_cli.add_command(certificate_command)  # a person's certificate as PDF (lms.learning)
    courses_cli.add_command(revoke_certificate_command)
    privacy_cli.add_command(agreement_annex)  # the agreement's annex, built by the admin area
    people_cli.add_command(import_people)  # the HR import: people (layer 1) audited by the admin area
    people_cli.add_command(add_admin)  # the first administrator of an installation
    groups = (people_cli, skills_cli, courses_cli, assignments_cli, reminders_cli, notifications_cli, audit_cli)
    for group in (*groups, strategy_cli, report_cli, privacy_cli, backup_cli, demo_cli, scheduler_cli):
        app.cli.add_command(group)
