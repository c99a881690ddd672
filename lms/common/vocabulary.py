"""The vocabularies stored in the database or the configuration, each defined once.

They are `StrEnum`s: a member is its stored text (`Role.HR == "hr"`), so rows, forms and URLs keep
plain strings while the code names each value once and a typo fails at import.
"""

from __future__ import annotations

from enum import StrEnum

from lms.i18n import _l


class Role(StrEnum):
    """What a person may do. Everyone is an employee; the others are added."""

    EMPLOYEE = "employee"
    TRAINER = "trainer"
    MANAGER = "manager"
    HR = "hr"
    ADMIN = "admin"
    DPO = "dpo"
    STAFF_COUNCIL = "staff_council"  # reads the data-protection settings the agreement is about
    CHANGE = "change"  # runs the initiatives of a change ("Vorhaben"); HR may do the same

    @property
    def label(self) -> str:
        return str(_ROLE_LABELS[self])


_ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.TRAINER: _l("Trainer"),
    Role.MANAGER: _l("Manager"),
    Role.HR: _l("HR"),
    Role.ADMIN: _l("Administrator"),
    Role.DPO: _l("Data protection officer"),
    Role.STAFF_COUNCIL: _l("Staff council"),
    Role.CHANGE: _l("Change management"),
}


class ManagerVisibility(StrEnum):
    """The staff-council preset for what managers see of their people (LMS_MANAGER_VISIBILITY)."""

    LEVELS = "levels"  # competence levels and evidence of their departments' people
    COMPLIANCE_ONLY = "compliance-only"  # only completions; competence data as aggregates


class Module(StrEnum):
    """The parts that show data about people to others; a town switches any of them off
    (LMS_MODULES_OFF). A module switched off answers 404 on its pages and leaves the menu."""

    SKILLS = "skills"  # the skill matrix, its export, others' competence profiles, confirmed levels
    GAPS = "gaps"  # the gap overview
    COMPLIANCE = "compliance"  # HR's compliance report and its exports
    TEAM = "team"  # a manager's team list and their people's mandatory trainings
    TRAINER_FIGURES = "trainer_figures"  # the trainers' figures about their courses and questions

    @property
    def label(self) -> str:
        return str(_MODULE_LABELS[self])

    @property
    def endpoints(self) -> tuple[str, ...]:
        """Its pages: the one list the switch, the menu and the agreement's annex all read."""
        return _MODULE_ENDPOINTS[self]


_MODULE_LABELS = {
    Module.SKILLS: _l("Skill matrix and other people's competence profiles"),
    Module.GAPS: _l("Gap overview"),
    Module.COMPLIANCE: _l("Compliance report"),
    Module.TEAM: _l("Team overview and the team's mandatory trainings"),
    Module.TRAINER_FIGURES: _l("Trainers' figures about their courses"),
}

_MODULE_ENDPOINTS = {
    Module.SKILLS: (
        "skills.matrix",
        "skills.matrix_export",
        "skills.cell_evidence",
        "skills.person_profile",
        "skills.add_assessment",
        "sessions.confirm_level",  # a session's trainer confirms levels of those who attended
    ),
    Module.GAPS: ("gaps.overview",),
    Module.COMPLIANCE: ("compliance.report", "compliance.report_export"),
    Module.TEAM: ("team.my_team", "compliance.team"),
    Module.TRAINER_FIGURES: ("learning.trainer_courses", "learning.question_figures", "learning.feedback_figures"),
}


def module_of(endpoint: str) -> Module | None:
    """The switchable module a page belongs to, if any."""
    return next((module for module in Module if endpoint in module.endpoints), None)


class DirectoryMatch(StrEnum):
    """How a person signed in through the town's directory is found in Lernpfad (LMS_LDAP_MATCH_BY)."""

    EMAIL = "email"  # the directory's e-mail attribute is the person's e-mail address
    PERSONNEL_NUMBER = "personnel_number"  # the directory's personnel number is the person's


class AuditAction(StrEnum):
    """What an audit entry records: a look at someone else's data, a refusal, or a change an
    administrator made to people and their rights."""

    VIEW_PROFILE = "view_profile"
    VIEW_MATRIX = "view_matrix"
    EXPORT_MATRIX = "export_matrix"
    VIEW_EVIDENCE = "view_evidence"
    ASSESS = "assess"
    VIEW_TARGETS = "view_targets"
    VIEW_AUDIT = "view_audit"
    EXPORT_AUDIT = "export_audit"
    DENIED = "denied"
    CREATE_PERSON = "create_person"
    EDIT_PERSON = "edit_person"
    GRANT_ROLE = "grant_role"
    REVOKE_ROLE = "revoke_role"
    RESET_PASSWORD = "reset_password"
    DEACTIVATE_PERSON = "deactivate_person"
    REACTIVATE_PERSON = "reactivate_person"
    SAVE_DEPARTMENT = "save_department"
    SET_DEPARTMENT_ACTIVE = "set_department_active"
    SAVE_JOB_ROLE = "save_job_role"
    SET_JOB_ROLE_ACTIVE = "set_job_role_active"
    ASSIGN_COURSE = "assign_course"
    END_ASSIGNMENT_RULE = "end_assignment_rule"
    EXEMPT = "exempt"
    VIEW_COMPLIANCE = "view_compliance"
    EXPORT_COMPLIANCE = "export_compliance"
    VIEW_OUTBOX = "view_outbox"
    SET_COURSE_OWNER = "set_course_owner"
    PURGE = "purge"
    CHANGE_SETTINGS = "change_settings"  # the operator's settings in force changed (recorded)
    OBJECT_CONFIRMATION = "object_confirmation"
    WITHDRAW_OBJECTION = "withdraw_objection"
    WITHDRAW_CONFIRMATION = "withdraw_confirmation"
    VIEW_PARTICIPANTS = "view_participants"  # a session's participant list (also printed, or marked)
    VIEW_CHANGE_QUESTIONS = "view_change_questions"  # the questions about an initiative, with the askers' names
    EXPORT_PROGRESS_REPORT = "export_progress_report"  # the progress report's PDF (aggregates only)
    CREATE_BACKUP = "create_backup"  # a copy of the whole database and its files (docs/backup.md)
    RESTORE_BACKUP = "restore_backup"  # the database and files replaced by a backup's
    IMPORT_PEOPLE = "import_people"  # the HR system's export applied: the file's hash and counts, no names
    DEACTIVATE_LEAVERS = "deactivate_leavers"  # the daily job: people whose exit date came (a count)
    # Two-factor sign-in (docs/two-factor.md): the person's own steps, and an admin's for them.
    ENABLE_TWO_FACTOR = "enable_two_factor"
    DISABLE_TWO_FACTOR = "disable_two_factor"
    NEW_RECOVERY_CODES = "new_recovery_codes"
    USE_RECOVERY_CODE = "use_recovery_code"
    RESET_TWO_FACTOR = "reset_two_factor"
    ENROL_HARDWARE_TOKEN = "enrol_hardware_token"
    END_SESSIONS = "end_sessions"
    VERIFY_CERTIFICATE = "verify_certificate"  # a certificate found by its verification code (lms.learning)
    EXPORT_CERTIFICATE = "export_certificate"  # a person's certificate written as PDF on the command line
    REVOKE_CERTIFICATE = "revoke_certificate"  # a certificate declared no longer valid (command line)

    @property
    def label(self) -> str:
        return str(_ACTION_LABELS[self])


_ACTION_LABELS = {
    AuditAction.VIEW_PROFILE: _l("viewed the competence profile"),
    AuditAction.VIEW_MATRIX: _l("viewed the skill matrix"),
    AuditAction.EXPORT_MATRIX: _l("exported the skill matrix"),
    AuditAction.VIEW_EVIDENCE: _l("viewed the evidence of a competence"),
    AuditAction.ASSESS: _l("confirmed a competence level"),
    AuditAction.VIEW_TARGETS: _l("viewed the individual targets"),
    AuditAction.VIEW_AUDIT: _l("viewed the audit log"),
    AuditAction.EXPORT_AUDIT: _l("exported the audit log"),
    AuditAction.DENIED: _l("tried to view data without the right to (refused)"),
    AuditAction.CREATE_PERSON: _l("created a person"),
    AuditAction.EDIT_PERSON: _l("changed a person's data"),
    AuditAction.GRANT_ROLE: _l("granted a role"),
    AuditAction.REVOKE_ROLE: _l("revoked a role"),
    AuditAction.RESET_PASSWORD: _l("reset a password"),
    AuditAction.DEACTIVATE_PERSON: _l("deactivated a person"),
    AuditAction.REACTIVATE_PERSON: _l("reactivated a person"),
    AuditAction.SAVE_DEPARTMENT: _l("saved a department"),
    AuditAction.SET_DEPARTMENT_ACTIVE: _l("activated or deactivated a department"),
    AuditAction.SAVE_JOB_ROLE: _l("saved a job role"),
    AuditAction.SET_JOB_ROLE_ACTIVE: _l("activated or deactivated a job role"),
    AuditAction.ASSIGN_COURSE: _l("assigned a course"),
    AuditAction.END_ASSIGNMENT_RULE: _l("ended a course assignment"),
    AuditAction.EXEMPT: _l("exempted a person from an assignment"),
    AuditAction.VIEW_COMPLIANCE: _l("viewed the status of mandatory trainings"),
    AuditAction.EXPORT_COMPLIANCE: _l("exported the compliance report"),
    AuditAction.VIEW_OUTBOX: _l("read mails in the outbox"),
    AuditAction.SET_COURSE_OWNER: _l("named or removed an owner of a course"),
    AuditAction.PURGE: _l("deleted personal data whose retention period had ended (counts only)"),
    AuditAction.CHANGE_SETTINGS: _l("recorded a change of the data-protection settings in force"),
    AuditAction.OBJECT_CONFIRMATION: _l("objected to a confirmed level"),
    AuditAction.WITHDRAW_OBJECTION: _l("withdrew an objection to a confirmed level"),
    AuditAction.WITHDRAW_CONFIRMATION: _l("withdrew a confirmed level"),
    AuditAction.VIEW_PARTICIPANTS: _l("viewed the participants of a session"),
    AuditAction.VIEW_CHANGE_QUESTIONS: _l("viewed the questions about an initiative with the askers' names"),
    AuditAction.EXPORT_PROGRESS_REPORT: _l("exported the progress report (totals only)"),
    AuditAction.CREATE_BACKUP: _l("created a backup of all data (all personal data included)"),
    AuditAction.RESTORE_BACKUP: _l("restored all data from a backup"),
    AuditAction.IMPORT_PEOPLE: _l("imported people from the HR system (file hash and counts only)"),
    AuditAction.DEACTIVATE_LEAVERS: _l("deactivated people whose exit date had come (count only)"),
    AuditAction.ENABLE_TWO_FACTOR: _l("turned on two-factor sign-in"),
    AuditAction.DISABLE_TWO_FACTOR: _l("turned off two-factor sign-in"),
    AuditAction.NEW_RECOVERY_CODES: _l("generated new recovery codes for two-factor sign-in"),
    AuditAction.USE_RECOVERY_CODE: _l("used a recovery code of two-factor sign-in"),
    AuditAction.RESET_TWO_FACTOR: _l("reset a person's two-factor sign-in"),
    AuditAction.ENROL_HARDWARE_TOKEN: _l("enrolled a hardware token for a person's two-factor sign-in"),
    AuditAction.END_SESSIONS: _l("ended all sessions of a person"),
    AuditAction.VERIFY_CERTIFICATE: _l("checked a certificate by its verification code"),
    AuditAction.EXPORT_CERTIFICATE: _l("wrote a person's certificate as PDF"),
    AuditAction.REVOKE_CERTIFICATE: _l("revoked a certificate"),
}


class AuditField(StrEnum):
    """The structured fields an audit entry may carry in its context, each defined once."""

    VIA = "via"  # web or command line
    COMPETENCE = "competence"
    LEVEL = "level"
    FORMAT = "format"
    FILTER = "filter"  # the filters of a list or export, as submitted
    PEOPLE = "people"  # how many people an export or list covered
    REASON = "reason"  # why an attempt was refused (an AuditReason)
    METHOD = "method"
    ENDPOINT = "endpoint"
    PATH = "path"
    QUERY = "query"
    ROLE = "role"
    CHANGES = "changes"  # field: [before, after]
    DEPARTMENT = "department"
    JOB_ROLE = "job_role"
    ACTIVE = "active"
    DETAIL = "detail"  # the free-text detail of entries written before the fields existed
    COURSE = "course"
    ASSIGNMENT_RULE = "assignment_rule"
    DELETED = "deleted"  # rows deleted per retention rule
    EVIDENCE_TYPE = "evidence_type"  # what a confirmed level is based on (an EvidenceType)
    CONFIRMATION = "confirmation"  # the id of a confirmed level
    SESSION = "session"  # the id of an in-person or online session
    INITIATIVE = "initiative"  # the id of an initiative of a change
    BACKUP = "backup"  # a backup file: where, its SHA-256, what it holds
    SHA256 = "sha256"  # the SHA-256 of an imported file
    COUNTS = "counts"  # what an import changed: kind → number of people
    CERTIFICATE = "certificate"  # the id of a certificate (lms.learning.models.Certificate)
    SERIAL = "serial"  # a hardware token's serial number (two-factor sign-in)

    @property
    def label(self) -> str:
        return str(_FIELD_LABELS[self])


_FIELD_LABELS = {
    AuditField.VIA: _l("Via"),
    AuditField.COMPETENCE: _l("Competence"),
    AuditField.LEVEL: _l("Level"),
    AuditField.FORMAT: _l("Format"),
    AuditField.FILTER: _l("Filter"),
    AuditField.PEOPLE: _l("People"),
    AuditField.REASON: _l("Reason"),
    AuditField.METHOD: _l("Method"),
    AuditField.ENDPOINT: _l("Page"),
    AuditField.PATH: _l("Address"),
    AuditField.QUERY: _l("Query"),
    AuditField.ROLE: _l("Role"),
    AuditField.CHANGES: _l("Changes"),
    AuditField.DEPARTMENT: _l("Department"),
    AuditField.JOB_ROLE: _l("Job role"),
    AuditField.ACTIVE: _l("Active"),
    AuditField.DETAIL: _l("Details"),
    AuditField.COURSE: _l("Course"),
    AuditField.ASSIGNMENT_RULE: _l("Assignment rule"),
    AuditField.DELETED: _l("Deleted"),
    AuditField.EVIDENCE_TYPE: _l("Evidence"),
    AuditField.CONFIRMATION: _l("Confirmation"),
    AuditField.SESSION: _l("Session"),
    AuditField.INITIATIVE: _l("Initiative"),
    AuditField.BACKUP: _l("Backup"),
    AuditField.SHA256: _l("SHA-256 of the file"),
    AuditField.COUNTS: _l("Counts"),
    AuditField.CERTIFICATE: _l("Certificate"),
    AuditField.SERIAL: _l("Serial number"),
}


class TwoFactorKind(StrEnum):
    """What makes a person's one-time codes for two-factor sign-in (docs/two-factor.md)."""

    APP = "app"  # an authenticator app the person set up themself
    HARDWARE = "hardware"  # a hardware token an administrator enrolled for them

    @property
    def label(self) -> str:
        return str(_TWO_FACTOR_KIND_LABELS[self])


_TWO_FACTOR_KIND_LABELS = {
    TwoFactorKind.APP: _l("authenticator app"),
    TwoFactorKind.HARDWARE: _l("hardware token"),
}


class AuditReason(StrEnum):
    """Why an attempt was refused."""

    FORBIDDEN = "forbidden"  # the page or action is not theirs to use (answered 403)
    OUT_OF_SIGHT = "out_of_sight"  # the person is not one whose data the viewer may see
    OWN_EVIDENCE = "own_evidence"  # nobody confirms their own level
    NOT_ASSESSOR = "not_assessor"  # may see, but not confirm, this person's level

    @property
    def label(self) -> str:
        return str(_REASON_LABELS[self])


_REASON_LABELS = {
    AuditReason.FORBIDDEN: _l("the page or action is not theirs to use"),
    AuditReason.OUT_OF_SIGHT: _l("the data of this person is not theirs to see"),
    AuditReason.OWN_EVIDENCE: _l("nobody confirms their own level"),
    AuditReason.NOT_ASSESSOR: _l("they may not confirm this person's level"),
}


class EvidenceType(StrEnum):
    """What a confirmed level is based on: chosen from this list, never free text."""

    CERTIFICATE = "certificate"
    WORK_SAMPLE = "work_sample"
    EXTERNAL_COURSE = "external_course"
    IN_PERSON_SESSION = "in_person_session"
    OBSERVED_AT_WORK = "observed_at_work"
    OTHER = "other"  # also the type of levels confirmed before the list existed

    @property
    def label(self) -> str:
        return str(_EVIDENCE_TYPE_LABELS[self])


_EVIDENCE_TYPE_LABELS = {
    EvidenceType.CERTIFICATE: _l("Certificate"),
    EvidenceType.WORK_SAMPLE: _l("Work sample"),
    EvidenceType.EXTERNAL_COURSE: _l("External course"),
    EvidenceType.IN_PERSON_SESSION: _l("In-person training session"),
    EvidenceType.OBSERVED_AT_WORK: _l("Observed at work"),
    EvidenceType.OTHER: _l("Other"),
}


class AssignmentScope(StrEnum):
    """Whom an assignment rule covers."""

    PERSON = "person"
    DEPARTMENT = "department"  # sub-departments included
    JOB_ROLE = "job_role"

    @property
    def label(self) -> str:
        return str(_SCOPE_LABELS[self])


_SCOPE_LABELS = {
    AssignmentScope.PERSON: _l("A person"),
    AssignmentScope.DEPARTMENT: _l("A department (with its sub-departments)"),
    AssignmentScope.JOB_ROLE: _l("A job role"),
}


class DueKind(StrEnum):
    """How an assignment's due date is set."""

    FIXED = "fixed"  # a date
    WITHIN_DAYS = "within_days"  # N days after the person was assigned
    WITHIN_DAYS_OF_JOINING = "within_days_of_joining"  # N days after the person joined the town

    @property
    def label(self) -> str:
        return str(_DUE_KIND_LABELS[self])


_DUE_KIND_LABELS = {
    DueKind.FIXED: _l("By a fixed date"),
    DueKind.WITHIN_DAYS: _l("Within a number of days of being assigned"),
    DueKind.WITHIN_DAYS_OF_JOINING: _l("Within a number of days of joining"),
}


class AssignmentStatus(StrEnum):
    """Where an assignment stands. Stored facts (completed, exempted, withdrawn) decide first;
    otherwise the dates and the person's progress do."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"
    COMPLETED = "completed"
    EXEMPTED = "exempted"
    WITHDRAWN = "withdrawn"  # the person left the rule's scope before completing

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self])


_STATUS_LABELS = {
    AssignmentStatus.OPEN: _l("open"),
    AssignmentStatus.IN_PROGRESS: _l("in progress"),
    AssignmentStatus.OVERDUE: _l("overdue"),
    AssignmentStatus.COMPLETED: _l("completed"),
    AssignmentStatus.EXEMPTED: _l("exempted"),
    AssignmentStatus.WITHDRAWN: _l("withdrawn"),
}


class VersionOrigin(StrEnum):
    """Where a published course version came from."""

    FILES = "files"  # `flask courses sync` from a folder
    BROWSER = "browser"  # published from the editor (typed, restored or uploaded as a zip)

    @property
    def label(self) -> str:
        return str(_ORIGIN_LABELS[self])


_ORIGIN_LABELS = {
    VersionOrigin.FILES: _l("Imported from files"),
    VersionOrigin.BROWSER: _l("Published in the browser"),
}


class CourseOwnership(StrEnum):
    """How a trainer holds a course: the owner manages co-owners; both edit and publish."""

    OWNER = "owner"
    CO_OWNER = "co_owner"

    @property
    def label(self) -> str:
        return str(_OWNERSHIP_LABELS[self])


_OWNERSHIP_LABELS = {
    CourseOwnership.OWNER: _l("Owner"),
    CourseOwnership.CO_OWNER: _l("Co-owner"),
}


class CourseLength(StrEnum):
    """A learner's view of a course's length, in their course feedback."""

    TOO_SHORT = "too_short"
    ABOUT_RIGHT = "about_right"
    TOO_LONG = "too_long"

    @property
    def label(self) -> str:
        return str(_COURSE_LENGTH_LABELS[self])


_COURSE_LENGTH_LABELS = {
    CourseLength.TOO_SHORT: _l("too short"),
    CourseLength.ABOUT_RIGHT: _l("about right"),
    CourseLength.TOO_LONG: _l("too long"),
}
