"""Every table of the database, in one module (STYLE.md, Storage).

Each schema change here needs a migration in ``storage/migrations/versions``;
``tests/contract/test_migrations.py`` fails when the two disagree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)

from storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so migrations can alter them on both databases."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)

CODE = String(24)
NAME = String(64)


def _place_columns() -> list[Column[object]]:
    """Columns every place has: whether config still lists it, and when it was last synced."""
    return [
        Column("active", Boolean, nullable=False, server_default=true()),
        Column("synced_at", UTCDateTime, nullable=False),
    ]


# --- places (spec 01, Configuration): upserted from config.toml at start-up ---

townships = Table(
    "townships",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", NAME, nullable=False),
    Column("name_en", NAME, nullable=False),
    *_place_columns(),
)

communities = Table(
    "communities",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("township_code", CODE, ForeignKey("townships.code"), nullable=False),
    Column("name", NAME, nullable=False),
    Column("name_en", NAME, nullable=False),
    Column("timezone", String(64), nullable=False),
    *_place_columns(),
)

compounds = Table(
    "compounds",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("community_code", CODE, ForeignKey("communities.code"), nullable=False, index=True),
    Column("name", NAME, nullable=False),
    Column("name_en", NAME, nullable=False),
    Column("property_manager", NAME, nullable=True),
    *_place_columns(),
)

buildings = Table(
    "buildings",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("compound_code", CODE, ForeignKey("compounds.code"), nullable=False, index=True),
    Column("label", String(8), nullable=False),
    *_place_columns(),
)

grids = Table(
    "grids",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("community_code", CODE, ForeignKey("communities.code"), nullable=False, index=True),
    Column("name", NAME, nullable=False),
    *_place_columns(),
)

grid_compounds = Table(
    "grid_compounds",
    metadata,
    Column("grid_code", CODE, ForeignKey("grids.code"), primary_key=True),
    Column("compound_code", CODE, ForeignKey("compounds.code"), primary_key=True),
)

report_categories = Table(
    "report_categories",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", NAME, nullable=False),
    Column("name_en", NAME, nullable=False),
    Column("type", String(16), nullable=False),
    *_place_columns(),
)

departments = Table(
    "departments",
    metadata,
    Column("code", CODE, primary_key=True),
    Column("name", NAME, nullable=False),
    Column("name_en", NAME, nullable=False),
    *_place_columns(),
)

department_categories = Table(
    "department_categories",
    metadata,
    Column("department_code", CODE, ForeignKey("departments.code"), primary_key=True),
    Column("category_code", CODE, ForeignKey("report_categories.code"), primary_key=True),
)


# --- the inbox (spec 01, Storage): each update, written before its offset is confirmed ---

inbox = Table(
    "inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    # The user (or chat) whose updates are handled in order; null for updates of no one.
    Column("sender_key", BigInteger, nullable=True),
    # The update as Telegram sent it (JSON), so it can be processed again after a crash.
    Column("payload", Text, nullable=False),
    Column("status", String(12), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("received_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_inbox_status_update_id", "status", "update_id"),
)


# --- chats (spec 01, Sending): every chat the bot has met, and whether it can reach it ---

chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(16), nullable=False),
    # The language Telegram reported for the user of a private chat, for texts
    # sent to people who never chose one (/lang overrides it with residents).
    Column("language_code", String(16), nullable=True),
    # False after a 403 (blocked, deactivated, chat not found); true again when a
    # ``my_chat_member`` update shows the user unblocked the bot.
    Column("reachable", Boolean, nullable=False, server_default=true()),
    Column("unreachable_since", UTCDateTime, nullable=True),
    Column("unreachable_reason", Text, nullable=True),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)


# --- the outbox (spec 01, Sending): notifications and broadcasts, written before sending ---

ID = BigInteger().with_variant(Integer, "sqlite")
"""An autoincrementing id: SQLite only autoincrements ``INTEGER PRIMARY KEY``."""

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    # bot.ratelimit.Priority: 1 notification, 2 broadcast (replies never wait here).
    Column("priority", Integer, nullable=False),
    # What to call: "text", "photo" or "document"; the arguments are in ``payload``.
    Column("kind", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    # Set by the code that enqueues (e.g. "broadcasts:12:chat:345"), so that doing
    # the same thing twice (a redelivered update, a re-run job) queues one message.
    Column("dedupe_key", String(160), nullable=True, unique=True),
    Column("status", String(12), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # Not sent before this moment: a backoff after 5xx, Telegram's retry_after.
    Column("not_before", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("message_id", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_outbox_status_priority_id", "status", "priority", "id"),
    Index("ix_outbox_chat_id_status", "chat_id", "status"),
)


# --- the scheduler (spec 01, Layout): work due at a moment, each item run once ---

due_jobs = Table(
    "due_jobs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    # Which service runs it, e.g. "sessions.remind"; ``key`` makes scheduling idempotent.
    Column("kind", String(48), nullable=False),
    Column("key", String(160), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    # Past this moment the job is skipped instead of run late (quality bar R4).
    Column("stale_after", UTCDateTime, nullable=True),
    Column("payload", Text, nullable=False, server_default="{}"),
    Column("status", String(12), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("kind", "key", name="uq_due_jobs_kind_key"),
    Index("ix_due_jobs_status_due_at", "status", "due_at"),
)


# --- runtime status: what ``health`` reads from another process (spec 01, Run modes) ---

runtime_status = Table(
    "runtime_status",
    metadata,
    Column("name", String(48), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


# --- residents (spec 01, Identity): people, where they live, how sure we are of it ---

residents = Table(
    "residents",
    metadata,
    # The Telegram user id, which is also the id of the private chat with them.
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("language", String(8), nullable=False),
    Column("community_code", CODE, ForeignKey("communities.code"), nullable=False, index=True),
    Column("compound_code", CODE, ForeignKey("compounds.code"), nullable=False, index=True),
    Column("building_code", String(40), ForeignKey("buildings.code"), nullable=True),
    Column("unit_label", String(32), nullable=True),
    # civic.residents.VerificationLevel: unverified, located, verified.
    Column("level", String(12), nullable=False, server_default="unverified"),
    Column("consented_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


# --- flows (spec 01, Storage): where each person is in a multi-step flow, and their draft ---

flows = Table(
    "flows",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    # "<capability>.<flow>", e.g. "residents.onboard".
    Column("name", String(48), primary_key=True),
    Column("step", String(24), nullable=False),
    # What was entered so far (JSON); its shape belongs to the capability.
    Column("draft", Text, nullable=False, server_default="{}"),
    # The flow the person's text and /cancel go to; at most one per person.
    Column("active", Boolean, nullable=False, server_default=true()),
    # The bot's message the flow is on: only its buttons act.
    Column("message_id", BigInteger, nullable=True),
    # The last update applied, so a redelivered one is answered, not applied twice.
    Column("last_update_id", BigInteger, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)


# --- roles (spec 01, Identity): who may act for whom, where ---

role_grants = Table(
    "role_grants",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    # civic.roles.Role: owner, grid_worker, staff, liaison, admin.
    Column("role", String(16), nullable=False),
    # civic.roles.ScopeKind and the place's code (a unit: "compound/building/unit").
    Column("scope_kind", String(16), nullable=False),
    Column("scope_code", String(128), nullable=False),
    # The community the scope lies in (grid, community, unit); empty for wider scopes.
    Column("community_code", CODE, nullable=True, index=True),
    # civic.roles.Position for staff: secretary, director, clerk, social_worker.
    Column("position", String(16), nullable=True),
    # Who granted or revoked it; empty when the operator did, from the command line.
    Column("granted_by", BigInteger, nullable=True),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("revoked_by", BigInteger, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    # At most one live grant of a role over one scope per person.
    Index(
        "uq_role_grants_live",
        "user_id",
        "role",
        "scope_kind",
        "scope_code",
        unique=True,
        sqlite_where=text("revoked_at IS NULL"),
        postgresql_where=text("revoked_at IS NULL"),
    ),
)

resident_tags = Table(
    "resident_tags",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    # civic.roles.Tag, e.g. resident_representative; held within one community.
    Column("tag", String(32), primary_key=True),
    Column("community_code", CODE, primary_key=True),
    Column("granted_by", BigInteger, nullable=True),
    Column("granted_at", UTCDateTime, nullable=False),
    Index("ix_resident_tags_community_code_tag", "community_code", "tag"),
)


# --- the audit log (spec 01, Identity): every staff and admin action ---

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    # Who acted; empty for the operator at the command line.
    Column("actor_id", BigInteger, nullable=True, index=True),
    # civic.audit.AuditAction, e.g. "roles.grant".
    Column("action", String(48), nullable=False),
    Column("community_code", CODE, nullable=True),
    # Whom it concerned, if a person; emptied when that person erases their data.
    Column("target_user_id", BigInteger, nullable=True, index=True),
    # What changed, as JSON: never a deed photo, never a vote.
    Column("details", Text, nullable=False, server_default="{}"),
    Column("update_id", BigInteger, nullable=True),
    Index("ix_audit_log_community_code_id", "community_code", "id"),
)


# --- owner claims (spec 01 and 04): "I own this unit", until staff decide ---

owner_claims = Table(
    "owner_claims",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("community_code", CODE, nullable=False),
    Column("compound_code", CODE, nullable=False),
    Column("building_code", String(40), nullable=True),
    Column("unit_label", String(32), nullable=False),
    # Exclusive area in integer hundredths of a square metre (spec 04: no floats).
    Column("area_centi_m2", BigInteger, nullable=False),
    # The owner's name as on the deed.
    Column("owner_name", String(64), nullable=False),
    # Telegram file id of the deed's photo: shown only to staff of the community.
    Column("deed_file_id", String(255), nullable=True),
    # civic.register_claims.DeedKind: "photo", or "document" (an image or PDF sent as a
    # file, shown to staff with sendDocument); NULL without a deed.
    Column("deed_kind", String(8), nullable=True),
    # civic.register_claims.ClaimStatus: pending, approved, rejected, withdrawn.
    Column("status", String(12), nullable=False, server_default="pending"),
    # A rejection's common reason (civic.register_claims.RejectReason), shown in the
    # claimant's language; ``reason`` holds a reason staff typed instead.
    Column("reason_code", String(24), nullable=True),
    Column("reason", String(200), nullable=True),
    Column("decided_by", BigInteger, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_owner_claims_community_code_status", "community_code", "status"),
)


# --- household codes (spec 01, verification): one-time codes delivered on paper ---

household_codes = Table(
    "household_codes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    # SHA-256 of the normalised code: the table never holds a usable code.
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("community_code", CODE, nullable=False, index=True),
    Column("compound_code", CODE, nullable=False),
    Column("building_code", String(40), nullable=True),
    Column("unit_label", String(32), nullable=True),
    Column("issued_by", BigInteger, nullable=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_by", BigInteger, nullable=True, index=True),
    Column("used_at", UTCDateTime, nullable=True),
    # The /codes update that printed it: handled again, that update prints no second batch.
    Column("issue_update_id", BigInteger, nullable=True, index=True),
)

# Wrong household codes typed, per person and county-wide: at most a few an hour
# (civic.household_codes). Kept through /deleteme (an id and a time, gone within the hour).
household_code_attempts = Table(
    "household_code_attempts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
    Index("ix_household_code_attempts_user_id_at", "user_id", "at"),
)


# --- building links (spec 01, verification): the version signed into a building's QR code ---

building_links = Table(
    "building_links",
    metadata,
    Column("building_code", String(40), primary_key=True),
    # Raised by each rotation: printed codes of earlier versions stop locating people.
    Column("version", Integer, nullable=False, server_default="0"),
    Column("rotated_by", BigInteger, nullable=True),
    Column("rotated_at", UTCDateTime, nullable=False),
)


# --- reports (spec 02): residents' problems, their events, attachments, "me too", feedback ---

reports = Table(
    "reports",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    # The tracking number: community code, the community's local year, a sequence.
    Column("community_code", CODE, nullable=False),
    Column("year", Integer, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("compound_code", CODE, nullable=False),
    Column("building_code", String(40), nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("category_code", CODE, nullable=False),
    # civic.places.CategoryType at submission: complaint, help, suggestion, inquiry.
    Column("category_type", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("anonymous", Boolean, nullable=False, server_default=false()),
    # A Telegram user, or a person without Telegram named by the staff member who
    # filed it for them (civic.reports.Reporter). Emptied by /deleteme.
    Column("reporter_id", BigInteger, nullable=True),
    Column("on_behalf_name", String(64), nullable=True),
    Column("on_behalf_phone", String(32), nullable=True),
    Column("filed_by", BigInteger, nullable=True),
    # civic.reports_routing.Assignee: grid_worker/community/township/department + code,
    # and the person once someone accepted it or was named by a reassignment.
    Column("assignee_kind", String(16), nullable=False),
    Column("assignee_code", CODE, nullable=False),
    Column("assignee_user_id", BigInteger, nullable=True, index=True),
    # civic.reports.ReportState.
    Column("state", String(12), nullable=False, server_default="submitted"),
    Column("reject_reason", String(16), nullable=True),
    Column("duplicate_of", BigInteger, ForeignKey("reports.id"), nullable=True),
    Column("supports", Integer, nullable=False, server_default="0"),
    Column("accept_by", UTCDateTime, nullable=False),
    Column("resolve_by", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    # The update that filed it: delivered twice, it files one report.
    Column("submit_update_id", BigInteger, nullable=True, unique=True),
    UniqueConstraint("community_code", "year", "sequence", name="uq_reports_number"),
    # A community's open reports, oldest first (/queue of staff).
    Index("ix_reports_community_code_state_created_at", "community_code", "state", "created_at"),
    # A grid's or a department's open reports, oldest first (/queue of grid workers, liaisons).
    Index(
        "ix_reports_assignee_kind_code_state_created_at",
        "assignee_kind",
        "assignee_code",
        "state",
        "created_at",
    ),
    # A reporter's reports, newest first (/myreports).
    Index("ix_reports_reporter_id_created_at", "reporter_id", "created_at"),
    # Likely duplicates: same compound and category, open, recent ("me too").
    Index(
        "ix_reports_compound_code_category_code_created_at",
        "compound_code",
        "category_code",
        "created_at",
    ),
)

report_sequences = Table(
    "report_sequences",
    metadata,
    # The last number given per community and year; raised with an upsert inside
    # the filing's transaction, so two reports filed at once get distinct numbers.
    Column("community_code", CODE, primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_number", Integer, nullable=False),
)

report_events = Table(
    "report_events",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("report_id", BigInteger, ForeignKey("reports.id"), nullable=False),
    # civic.reports.ReportAction; "submit" for the filing itself.
    Column("kind", String(16), nullable=False),
    # civic.reports.ActorRole; the person, empty for the system or once erased.
    Column("actor_role", String(12), nullable=False),
    Column("actor_id", BigInteger, nullable=True, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("from_state", String(12), nullable=True),
    Column("to_state", String(12), nullable=False),
    Column("note", Text, nullable=True),
    Column("reason", String(16), nullable=True),
    # The new assignee of a reassignment (and the first one, on the filing event).
    Column("assignee_kind", String(16), nullable=True),
    Column("assignee_code", CODE, nullable=True),
    Column("assignee_user_id", BigInteger, nullable=True),
    Column("update_id", BigInteger, nullable=True),
    Index("ix_report_events_report_id_id", "report_id", "id"),
)

report_attachments = Table(
    "report_attachments",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("report_id", BigInteger, ForeignKey("reports.id"), nullable=False, index=True),
    # The event it came with (the filing, a progress note, an answer, the resolution).
    Column("event_id", BigInteger, ForeignKey("report_events.id"), nullable=True),
    # Telegram's file id, sent back with sendPhoto/sendVoice/sendDocument.
    Column("file_id", String(255), nullable=False),
    # civic.reports.AttachmentKind: photo, voice, document.
    Column("kind", String(12), nullable=False),
    Column("added_by", BigInteger, nullable=True, index=True),
    Column("at", UTCDateTime, nullable=False),
)

report_supports = Table(
    "report_supports",
    metadata,
    # "Me too": one per person per report; the report's ``supports`` counts them.
    Column("report_id", BigInteger, ForeignKey("reports.id"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False, index=True),
    Column("at", UTCDateTime, nullable=False),
)

report_feedback = Table(
    "report_feedback",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("report_id", BigInteger, ForeignKey("reports.id"), nullable=False, index=True),
    # The resolution answered: one answer per resolution (a reopened report asks again).
    Column(
        "resolve_event_id", BigInteger, ForeignKey("report_events.id"), nullable=False, unique=True
    ),
    Column("user_id", BigInteger, nullable=True, index=True),
    # "Is it fixed?" Yes/No, then 1-5 and an optional comment.
    Column("fixed", Boolean, nullable=False),
    Column("rating", Integer, nullable=True),
    Column("comment", Text, nullable=True),
    Column("at", UTCDateTime, nullable=False),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
)
