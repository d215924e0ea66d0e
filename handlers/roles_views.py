"""What the roles capability shows: answers, notifications, the staff list and the audit log.

Pure functions of a translator and the places, so the bot, the operator's command
line and unit tests render the same words. Names are shown in the reader's
language; people are shown by their Telegram user id only (no names: the staff
list and the audit log are read by several people, spec 06 S2).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Final

from bot.html import bold, escape, truncate, utf16_length
from bot.i18n import N_, Catalogs, Translator, format_datetime, resolve_locale
from civic import audit, household_codes, register_claims, reports_filing, reports_handling
from civic.audit import AuditEntry
from civic.places import Places
from civic.roles import Action, Grant, Position, Role, Scope, ScopeKind, Tag
from civic.roles_admin import (
    ERASED_OWN_DATA,
    AuditPage,
    NoticeKind,
    Problem,
    RoleNotice,
    RoleOutcome,
    StaffList,
)
from handlers.menus import Audience, MenuCommand, commands_for

ROLE_NAME: Final = {
    Role.OWNER: N_("roles.role.owner"),
    Role.GRID_WORKER: N_("roles.role.grid_worker"),
    Role.STAFF: N_("roles.role.staff"),
    Role.LIAISON: N_("roles.role.liaison"),
    Role.ADMIN: N_("roles.role.admin"),
}
POSITION_NAME: Final = {
    Position.SECRETARY: N_("roles.position.secretary"),
    Position.DIRECTOR: N_("roles.position.director"),
    Position.CLERK: N_("roles.position.clerk"),
    Position.SOCIAL_WORKER: N_("roles.position.social_worker"),
}
TAG_NAME: Final = {
    Tag.RESIDENT_REPRESENTATIVE: N_("roles.tag.resident_representative"),
    Tag.PARTY_REPRESENTATIVE: N_("roles.tag.party_representative"),
    Tag.COMMITTEE_MEMBER: N_("roles.tag.committee_member"),
    Tag.EXPERT: N_("roles.tag.expert"),
    Tag.LOCAL_UNIT: N_("roles.tag.local_unit"),
    Tag.PROPERTY_COMPANY: N_("roles.tag.property_company"),
    Tag.SOCIAL_ORGANISATION: N_("roles.tag.social_organisation"),
}
SCOPE_KIND_NAME: Final = {
    ScopeKind.COUNTY: N_("roles.scope.county"),
    ScopeKind.TOWNSHIP: N_("roles.scope.township"),
    ScopeKind.COMMUNITY: N_("roles.scope.community"),
    ScopeKind.GRID: N_("roles.scope.grid"),
    ScopeKind.DEPARTMENT: N_("roles.scope.department"),
    ScopeKind.UNIT: N_("roles.scope.unit"),
}
PROBLEM_TEXT: Final = {
    RoleOutcome.BAD_USER: N_("roles.error.bad_user"),
    RoleOutcome.UNKNOWN_ROLE: N_("roles.error.unknown_role"),
    RoleOutcome.UNKNOWN_POSITION: N_("roles.error.unknown_position"),
    RoleOutcome.UNKNOWN_SCOPE: N_("roles.error.unknown_scope"),
    RoleOutcome.WRONG_SCOPE: N_("roles.error.wrong_scope"),
    RoleOutcome.POSITION_REQUIRED: N_("roles.error.position_required"),
    RoleOutcome.POSITION_NOT_ALLOWED: N_("roles.error.position_not_allowed"),
    RoleOutcome.OWNER_BY_CLAIM: N_("roles.error.owner_by_claim"),
    RoleOutcome.UNKNOWN_TAG: N_("roles.error.unknown_tag"),
    RoleOutcome.UNKNOWN_COMMUNITY: N_("roles.error.unknown_community"),
    RoleOutcome.NO_COMMUNITY: N_("roles.error.no_community"),
}
NOTICE_TEXT: Final = {
    NoticeKind.GRANTED: N_("roles.notify.granted"),
    NoticeKind.REVOKED: N_("roles.notify.revoked"),
    NoticeKind.TAGGED: N_("roles.notify.tagged"),
    NoticeKind.UNTAGGED: N_("roles.notify.untagged"),
}
ACTION_NAME: Final = {
    audit.ROLES_GRANT: N_("roles.action.grant"),
    audit.ROLES_REVOKE: N_("roles.action.revoke"),
    audit.ROLES_TAG: N_("roles.action.tag"),
    audit.ROLES_UNTAG: N_("roles.action.untag"),
    audit.ROLES_HANDOVER: N_("roles.action.handover"),
    register_claims.CLAIM_APPROVED: N_("roles.action.claim_approved"),
    register_claims.CLAIM_REJECTED: N_("roles.action.claim_rejected"),
    household_codes.AUDIT_CODES_ISSUED: N_("roles.action.codes_issued"),
    household_codes.AUDIT_CODE_ROTATED: N_("roles.action.code_rotated"),
    household_codes.AUDIT_VERIFIED: N_("roles.action.verified"),
    reports_handling.AUDIT_HANDLED: N_("reports.card.audit_handled"),
    reports_filing.FILED_ON_BEHALF: N_("roles.action.filed_on_behalf"),
}
"""Every action an :class:`civic.audit.AuditEntry` is written with, by name (a unit test
collects the ``action=`` of every ``AuditEntry(...)`` in :mod:`civic` and checks)."""
DETAIL_NAME: Final = {
    "role": N_("roles.detail.role"),
    "position": N_("roles.detail.position"),
    "scope_kind": N_("roles.detail.scope_kind"),
    "scope": N_("roles.detail.scope"),
    "tag": N_("roles.detail.tag"),
    "cause": N_("roles.detail.cause"),
    "secretary": N_("roles.detail.secretary"),
    "counts": N_("roles.detail.counts"),
    "claim_id": N_("roles.detail.claim_id"),
    "unit": N_("roles.detail.unit"),
    "area_m2": N_("roles.detail.area_m2"),
    "reason_code": N_("roles.detail.reason_code"),
    "reason": N_("roles.detail.reason"),
    "count": N_("roles.detail.count"),
    "units": N_("roles.detail.units"),
    "compound": N_("roles.detail.compound"),
    "building": N_("roles.detail.building"),
    "expires_at": N_("roles.detail.expires_at"),
    "version": N_("roles.detail.version"),
    "from": N_("roles.detail.from"),
    "action": N_("reports.card.audit_action"),
    "report": N_("reports.card.audit_report"),
    "to": N_("reports.card.audit_to"),
    "reject_reason": N_("reports.card.audit_reject_reason"),
    "target": N_("reports.card.audit_target"),
}
"""The detail fields the audit entries of today carry, by name; an unknown one shows its key."""
CAUSE_NAME: Final = {ERASED_OWN_DATA: N_("roles.cause.erased_own_data")}
MESSAGE_LIMIT: Final = 4096
"""Telegram's limit on a message's text, in UTF-16 units after entities are parsed."""
AUDIT_LINE_LIMIT: Final = 400
"""One audit line at most (a rejection reason may be long): twenty lines fit in a message."""
DETAIL_TEXT_LIMIT: Final = 80
"""Free text in details (a rejection's reason) is cut here in the log; the claim keeps it."""
USAGE: Final = {
    "grant": N_("roles.grant.usage"),
    "revoke": N_("roles.revoke.usage"),
    "tag": N_("roles.tag.usage"),
    "untag": N_("roles.untag.usage"),
}

Escape = Callable[[str], str]


def plain(text: str) -> str:
    """No escaping: for the operator's terminal."""
    return text


class RolesPainter:
    """Names and texts of the roles capability in one language."""

    def __init__(self, t: Translator, places: Places, *, escape_text: Escape = escape) -> None:
        self.t = t
        self.places = places
        self.escape = escape_text

    @property
    def english(self) -> bool:
        return self.t.locale == "en"

    # -- names --------------------------------------------------------------------------

    def role(self, role: Role, position: Position | None = None) -> str:
        """A staff member is named by their position (secretary ...); others by their role."""
        if role is Role.STAFF and position is not None:
            return self.t(POSITION_NAME[position])
        return self.t(ROLE_NAME[role])

    def tag(self, tag: Tag) -> str:
        return self.t(TAG_NAME[tag])

    def community(self, code: str) -> str:
        community = next((c for c in self.places.communities if c.code == code), None)
        if community is None:
            return self.escape(code)
        return self.escape(community.name_en if self.english else community.name)

    def scope(self, scope: Scope) -> str:
        """The place or department a grant is over, by name, with its code."""
        places = self.places
        name: str | None = None
        if scope.kind is ScopeKind.COUNTY:
            return self.t("roles.scope.the_county")
        if scope.kind is ScopeKind.COMMUNITY:
            return f"{self.community(scope.code)} ({self.escape(scope.code)})"
        if scope.kind is ScopeKind.TOWNSHIP:
            township = next((x for x in places.townships if x.code == scope.code), None)
            if township is not None:
                name = township.name_en if self.english else township.name
        elif scope.kind is ScopeKind.DEPARTMENT:
            department = next((x for x in places.departments if x.code == scope.code), None)
            if department is not None:
                name = department.name_en if self.english else department.name
        elif scope.kind is ScopeKind.GRID:
            grid = next((x for x in places.grids if x.code == scope.code), None)
            if grid is not None:
                name = grid.name
        if name is None:
            return self.escape(scope.code)
        return f"{self.escape(name)} ({self.escape(scope.code)})"

    def where(self, communities: Collection[str] | None) -> str:
        """Communities by name, or the whole county."""
        if communities is None:
            return self.t("roles.scope.the_county")
        return self.t("roles.list_separator").join(self.community(c) for c in sorted(communities))

    # -- answers ------------------------------------------------------------------------

    def problem(self, problem: Problem, *, user: int | str = "", scope: str = "") -> str:
        kinds = self.t("roles.list_separator").join(
            self.t(SCOPE_KIND_NAME[k]) for k in sorted(problem.kinds)
        )
        tags = self.t("roles.list_separator").join(
            f"{tag.value} {self.t(TAG_NAME[tag])}" for tag in Tag
        )
        return self.t(
            PROBLEM_TEXT[problem.outcome],
            value=self.escape(problem.value),
            kinds=kinds,
            tags=tags,
            user=user,
            scope=self.escape(scope),
        )

    def grant_answer(self, outcome: RoleOutcome, grant: Grant) -> str:
        """Done / already / not held, for a grant or a revoke."""
        ids = {
            RoleOutcome.DONE: N_("roles.grant.done"),
            RoleOutcome.ALREADY: N_("roles.grant.already"),
            RoleOutcome.NOT_HELD: N_("roles.revoke.not_held"),
        }
        return self.t(
            ids[outcome],
            user=grant.user_id,
            role=self.role(grant.role, grant.position),
            scope=self.scope(grant.scope),
        )

    def revoked_answer(
        self,
        grant: Grant,
        community_code: str | None,
        secretary: int | None,
        handed_over: Mapping[str, int],
    ) -> str:
        lines = [
            self.t(
                "roles.revoke.done",
                user=grant.user_id,
                role=self.role(grant.role, grant.position),
                scope=self.scope(grant.scope),
            )
        ]
        if community_code is not None:
            count = sum(handed_over.values())
            community = self.community(community_code)
            if secretary is None:
                lines.append(
                    self.t(
                        "roles.revoke.no_secretary",
                        community=community,
                        code=self.escape(community_code),
                        count=count,
                    )
                )
            else:
                lines.append(
                    self.t(
                        "roles.revoke.handed_over",
                        community=community,
                        secretary=secretary,
                        count=count,
                    )
                )
        return "\n".join(lines)

    def tag_answer(
        self, outcome: RoleOutcome, user_id: int, tag: Tag, community: str, *, adding: bool
    ) -> str:
        """Done / already (tag) or done / not held (untag)."""
        ids = {
            (True, RoleOutcome.DONE): N_("roles.tag.done"),
            (True, RoleOutcome.ALREADY): N_("roles.tag.already"),
            (False, RoleOutcome.DONE): N_("roles.untag.done"),
            (False, RoleOutcome.NOT_HELD): N_("roles.untag.not_held"),
            (True, RoleOutcome.NOT_RESIDENT): N_("roles.tag.not_resident"),
        }
        return self.t(
            ids[(adding, outcome)],
            user=user_id,
            tag=self.tag(tag),
            community=self.community(community),
        )

    def notice(self, notice: RoleNotice) -> str:
        """What the person concerned is told."""
        role = "" if notice.role is None else self.role(notice.role, notice.position)
        return self.t(
            NOTICE_TEXT[notice.kind],
            role=role,
            scope="" if notice.scope is None else self.scope(notice.scope),
            tag="" if notice.tag is None else self.tag(notice.tag),
            community=""
            if notice.community_code is None
            else self.community(notice.community_code),
        )

    # -- lists --------------------------------------------------------------------------

    def person(self, user_id: int, registered: Collection[int]) -> str:
        if user_id in registered:
            return str(user_id)
        return f"{user_id} {self.t('roles.staff.unregistered')}"

    def staff_list(self, listing: StaffList) -> str:
        community = listing.community_code or ""
        lines = [bold(self.t("roles.staff.title", community=self.community(community)))]
        if listing.grants:
            lines.append(self.t("roles.staff.roles"))
            lines.extend(
                f"• {self.person(g.user_id, listing.registered)} — "
                f"{self.role(g.role, g.position)} · {self.scope(g.scope)}"
                for g in listing.grants
            )
        else:
            lines.append(self.t("roles.staff.nobody"))
        lines.append(self.t("roles.staff.owners", count=listing.owners))
        if listing.tags:
            lines.append(self.t("roles.staff.tags"))
            lines.extend(f"• {user_id} — {self.tag(tag)}" for user_id, tag in listing.tags)
        else:
            lines.append(self.t("roles.staff.no_tags"))
        return self.fit(lines)

    def fit(self, lines: list[str]) -> str:
        """The lines that fit in one message (4096), and how many did not.

        A community may tag hundreds of representatives; a message over the
        limit would fail every time, so the list stops early and says so.
        """
        reserve = utf16_length(self.t("roles.staff.cut", count=len(lines)))
        kept: list[str] = []
        used = 0
        for line in lines:
            length = utf16_length(line) + 1
            if used + length + reserve > MESSAGE_LIMIT:
                kept.append(self.t("roles.staff.cut", count=len(lines) - len(kept)))
                break
            kept.append(line)
            used += length
        return "\n".join(kept)

    def audit_line(self, entry: AuditEntry) -> str:
        """``time · actor · action · target · community · details`` in the community's time zone."""
        timezone = self.places.timezone_of(entry.community_code)
        actor = self.t("roles.audit.operator") if entry.actor_id is None else str(entry.actor_id)
        action = ACTION_NAME.get(entry.action)
        target = "—" if entry.target_user_id is None else str(entry.target_user_id)
        parts = [
            format_datetime(entry.at, self.t.locale, timezone),
            actor,
            self.t(action) if action is not None else self.escape(entry.action),
            target,
        ]
        if entry.community_code is not None:
            parts.append(self.escape(entry.community_code))
        details = self.details(entry.details, timezone)
        if details:
            parts.append(details)
        return " · ".join(parts)

    def details(self, details: Mapping[str, Any], timezone: str) -> str:
        """The entry's fields by name (:data:`DETAIL_NAME`), values in words where they are
        codes (roles, tags, reasons, levels) and times in the community's time zone."""
        fields = dict(details)
        kind, code = fields.get("scope_kind"), fields.get("scope")
        if isinstance(kind, str) and kind in ScopeKind._value2member_map_ and isinstance(code, str):
            del fields["scope_kind"]  # the scope by name says what kind of place it is
            fields["scope"] = Scope(ScopeKind(kind), code)
        shown = [
            self.t(
                "roles.audit.detail",
                name=self.t(DETAIL_NAME[key]) if key in DETAIL_NAME else self.escape(str(key)),
                value=self.detail_value(key, value, timezone),
            )
            for key, value in sorted(fields.items())
        ]
        return self.t("roles.list_separator").join(shown)

    def detail_value(self, key: str, value: Any, timezone: str) -> str:
        """One detail's value, escaped."""
        # Lazy: these views import this module (for /help), so it cannot import them at the top.
        from handlers.register_claims_views import REASON_TEXT
        from handlers.residents_views import LEVEL_TEXT

        names: Mapping[str, Mapping[Any, str]] = {
            "role": ROLE_NAME,
            "position": POSITION_NAME,
            "tag": TAG_NAME,
            "scope_kind": SCOPE_KIND_NAME,
            "cause": CAUSE_NAME,
            "from": LEVEL_TEXT,
            "reason_code": REASON_TEXT,
        }
        if key in names and value in names[key]:
            return self.t(names[key][value])
        if isinstance(value, Scope):
            return self.scope(value)
        if key == "secretary" and value is None:
            return self.t("roles.audit.no_secretary")
        if key == "expires_at" and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return self.escape(value)
            return format_datetime(moment, self.t.locale, timezone)
        if isinstance(value, Mapping):
            return self.escape(", ".join(f"{k} {v}" for k, v in sorted(value.items())) or "0")
        text = str(value)
        if len(text) > DETAIL_TEXT_LIMIT:
            text = text[: DETAIL_TEXT_LIMIT - 1] + "…"
        return self.escape(text)

    def audit_page(self, page: AuditPage, asked: str | None = None) -> str:
        """The entries that fit in one message, newest first, and how to read older ones.

        Twenty entries with long rejection reasons would pass Telegram's 4096
        characters and the message would fail every time: lines are added while
        they fit (each cut at :data:`AUDIT_LINE_LIMIT`), room kept for the note
        that says how many were left out and the command for the next page
        (``/audit [COMMUNITY] ENTRY_ID``: older than the last entry shown).
        Lengths are counted on the HTML, which is never shorter than what
        Telegram counts.
        """
        title = f"<b>{self.t('roles.audit.title', where=self.where(page.communities))}</b>"
        if not page.entries:
            return f"{title}\n{self.t('roles.audit.empty')}"
        reserve = utf16_length(self.older_note(asked, len(page.entries), page.entries[0].id))
        lines = [title]
        used = utf16_length(title)
        for entry in page.entries:
            line = truncate(self.audit_line(entry), AUDIT_LINE_LIMIT)
            if used + 1 + utf16_length(line) + 1 + reserve > MESSAGE_LIMIT and len(lines) > 1:
                break
            lines.append(line)
            used += 1 + utf16_length(line)
        shown = len(lines) - 1
        left_out = len(page.entries) - shown
        if left_out or page.more:
            lines.append(self.older_note(asked, left_out, page.entries[shown - 1].id))
        return "\n".join(lines)

    def older_note(self, asked: str | None, left_out: int, last_shown: int | None) -> str:
        """How many entries of this page did not fit, and the command for older ones."""
        command = " ".join(part for part in ("/audit", asked, str(last_shown or 0)) if part)
        if left_out:
            return self.t("roles.audit.cut", count=left_out, command=command)
        return self.t("roles.audit.older", command=command)


def compose_notice(
    catalogs: Catalogs, places: Places
) -> Callable[[str, RoleNotice], Mapping[str, Any]]:
    """The :data:`civic.roles_admin.Compose` the bot and the command line pass to use cases."""

    def compose(language: str, notice: RoleNotice) -> Mapping[str, Any]:
        t = catalogs.for_locale(resolve_locale(language, None))
        return {"text": RolesPainter(t, places).notice(notice), "parse_mode": "HTML"}

    return compose


# -- /help ---------------------------------------------------------------------------------


def help_sections(
    t: Translator, audiences: Collection[Audience], actions: Collection[Action] = ()
) -> list[str]:
    """The commands of the person's audiences, from :data:`handlers.menus.COMMANDS`.

    Registered residents do not need ``/start`` again; newcomers see only what
    works before registering (and staff or admin commands, if they hold a role).
    """
    registered = Audience.RESIDENT in audiences

    def lines(commands: Collection[MenuCommand]) -> str:
        return "\n".join(f"/{c.name} — {t(c.description)}" for c in commands)

    mine = [
        c
        for c in commands_for(audiences, actions)
        if c.audience in (Audience.EVERYONE, Audience.RESIDENT)
        and not (registered and c.name == "start")
    ]
    intro = t("roles.help.resident") if registered else t("roles.help.newcomer")
    sections = [f"{intro}\n{lines(mine)}"]
    for audience, heading in (
        (Audience.STAFF, N_("roles.help.staff")),
        (Audience.ADMIN, N_("roles.help.admin")),
    ):
        extra = [c for c in commands_for(audiences, actions) if c.audience is audience]
        if extra:
            sections.append(f"{t(heading)}\n{lines(extra)}")
    return sections
