"""What ``/queue`` shows: report cards with their buttons, the typed steps, the notices.

Pure builders like :mod:`handlers.register_claims_views`: a painter (translator,
button codec, places) and the data in, a :class:`Screen` or an outbox message
out, so unit tests can check every keyboard fits Telegram's 64 bytes.

Button actions (each carries the report id; card buttons also the state the
card showed, in one letter, so a press on an old card is recognised):
``rq_act`` (an action of the card), ``rq_reason`` (a rejection reason chosen),
``rq_reject`` (reject now, without a note), ``rq_target`` (a reassign target),
``rq_card`` (back to the card), ``rq_more`` (the next page of ``/queue``),
``rq_cancel`` (leave the note), ``rq_answer`` / ``rq_done`` (the reporter
answering a question).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.html import escape, truncate
from bot.i18n import N_, Catalogs, format_datetime, resolve_locale
from civic.outbox import MessageKind, OutgoingMessage
from civic.places import Places
from civic.reports import (
    ERASED_TEXT,
    ActionVerdict,
    ActorRole,
    RejectReason,
    Report,
    ReportAction,
    ReportEvent,
    ReportState,
    decide_action,
)
from civic.reports_handling import CARD_ACTIONS, MAX_NOTE_PHOTOS, reassign_targets
from civic.reports_routing import Assignee, AssigneeKind
from handlers.reports_names import category_name, desk_name, state_name
from handlers.residents_views import Painter, Screen

ACT: Final = "rq_act"
REASON: Final = "rq_reason"
REJECT_NOW: Final = "rq_reject"
TARGET: Final = "rq_target"
CARD: Final = "rq_card"
MORE: Final = "rq_more"
CANCEL: Final = "rq_cancel"
ANSWER: Final = "rq_answer"
DONE: Final = "rq_done"
FIXED: Final = "rfb_fixed"
""""Is it fixed?" Yes/No (:mod:`handlers.reports_feedback`): report id, resolve event id,
``y`` or ``n``."""

STATE_CODE: Final = {
    ReportState.SUBMITTED: "s",
    ReportState.ACCEPTED: "a",
    ReportState.IN_PROGRESS: "p",
    ReportState.RESOLVED: "r",
    ReportState.CLOSED: "c",
    ReportState.REJECTED: "x",
    ReportState.REOPENED: "o",
}
CODE_STATE: Final = {code: state for state, code in STATE_CODE.items()}
ACTION_CODE: Final = {
    ReportAction.ACCEPT: "a",
    ReportAction.PROGRESS: "p",
    ReportAction.RESOLVE: "r",
    ReportAction.REJECT: "x",
    ReportAction.REASSIGN: "m",
    ReportAction.ASK: "q",
}
CODE_ACTION: Final = {code: action for action, code in ACTION_CODE.items()}
KIND_CODE: Final = {
    AssigneeKind.GRID_WORKER: "g",
    AssigneeKind.COMMUNITY: "c",
    AssigneeKind.TOWNSHIP: "t",
    AssigneeKind.DEPARTMENT: "d",
}
CODE_KIND: Final = {code: kind for kind, code in KIND_CODE.items()}

EVENT_TEXT: Final = {
    None: N_("reports.card.event_submitted"),
    ReportAction.ACCEPT: N_("reports.card.event_accepted"),
    ReportAction.PROGRESS: N_("reports.card.event_progress"),
    ReportAction.RESOLVE: N_("reports.card.event_resolved"),
    ReportAction.REJECT: N_("reports.card.event_rejected"),
    ReportAction.REASSIGN: N_("reports.card.event_reassigned"),
    ReportAction.REOPEN: N_("reports.card.event_reopened"),
    ReportAction.CONFIRM: N_("reports.card.event_confirmed"),
    ReportAction.EXPIRE: N_("reports.card.event_expired"),
    ReportAction.ASK: N_("reports.card.event_asked"),
    ReportAction.ANSWER: N_("reports.card.event_answered"),
    ReportAction.REMIND: N_("reports.card.event_reminded"),
    ReportAction.ESCALATE: N_("reports.card.event_escalated"),
}
"""How a card's short history names each event (``None``: the filing)."""
BUTTON_TEXT: Final = {
    ReportAction.ACCEPT: N_("reports.card.button_accept"),
    ReportAction.PROGRESS: N_("reports.card.button_progress"),
    ReportAction.RESOLVE: N_("reports.card.button_resolve"),
    ReportAction.REJECT: N_("reports.card.button_reject"),
    ReportAction.REASSIGN: N_("reports.card.button_reassign"),
    ReportAction.ASK: N_("reports.card.button_ask"),
}
REASON_TEXT: Final = {
    RejectReason.NOT_RESPONSIBLE: N_("reports.card.reason_not_responsible"),
    RejectReason.DUPLICATE: N_("reports.card.reason_duplicate"),
    RejectReason.INVALID: N_("reports.card.reason_invalid"),
}
NOTE_PROMPT: Final = {
    ReportAction.PROGRESS: N_("reports.card.prompt_progress_photos"),
    ReportAction.RESOLVE: N_("reports.card.prompt_resolve_photos"),
    ReportAction.ASK: N_("reports.card.prompt_ask"),
    ReportAction.REJECT: N_("reports.card.prompt_reject"),
}
DESCRIPTION_SHOWN: Final = 600
"""Characters of the description on a card: the card stays readable, a page of five fits."""
CAPTION_LIMIT: Final = 1024
"""Telegram's limit on a photo's caption."""
NOTE_SHOWN: Final = 800
EVENT_NOTE_SHOWN: Final = 200
"""Characters of a note in a card's short history (the notice has it whole)."""


def person(user_id: int) -> str:
    """A person shown by Telegram id, as a link that opens their profile."""
    return f'<a href="tg://user?id={user_id}">{user_id}</a>'


@dataclass(frozen=True)
class CardPainter:
    """Builds report screens in one language."""

    painter: Painter

    @property
    def t(self) -> Painter:
        return self.painter

    @property
    def places(self) -> Places:
        return self.painter.places

    def text(self, key: str, **values: object) -> str:
        return self.painter.t(key, **values)

    # -- names ----------------------------------------------------------------------------

    def category(self, code: str) -> str:
        """The category's config name, escaped for HTML."""
        return escape(category_name(self.places, self.painter.locale, code))

    def place(self, report: Report) -> str:
        compound = next((c for c in self.places.compounds if c.code == report.compound_code), None)
        parts = [self.painter.place(compound) if compound else report.compound_code]
        building = next((b for b in self.places.buildings if b.code == report.building_code), None)
        if building is not None:
            parts.append(self.painter.building(building))
        return escape(" ".join(parts))

    def desk(self, assignee: Assignee) -> str:
        """Whom the report is with, escaped for HTML."""
        return escape(self.desk_label(assignee))

    def desk_label(self, assignee: Assignee) -> str:
        """Whom the report is with, plain text (a button label, an alert)."""
        return desk_name(self.painter.t, self.places, assignee)

    def when(self, report: Report, moment: object) -> str:
        timezone = self.places.timezone_of(report.community_code)
        return format_datetime(moment, self.painter.locale, timezone)  # type: ignore[arg-type]

    def reporter(self, report: Report, viewer_is_staff: bool) -> str:
        reporter = report.reporter
        if reporter.erased:
            return self.text("reports.card.reporter_erased")
        if reporter.on_behalf:
            if not viewer_is_staff:
                return self.text("reports.card.reporter_hidden")
            return self.text(
                "reports.card.reporter_on_behalf",
                name=escape(reporter.name or ""),
                phone=escape(reporter.phone or ""),
                filer=person(reporter.filed_by or 0),
            )
        if report.anonymous and not viewer_is_staff:
            return self.text("reports.card.reporter_hidden")
        shown = person(reporter.user_id or 0)
        if report.anonymous:
            return self.text("reports.card.reporter_anonymous", person=shown)
        return shown

    def description(self, report: Report) -> str:
        if report.description == ERASED_TEXT:
            return self.text("reports.card.erased")
        return truncate(escape(report.description), DESCRIPTION_SHOWN)

    # -- the card --------------------------------------------------------------------------

    def history(self, report: Report, events: Sequence[ReportEvent]) -> list[str]:
        """The latest events, oldest first: when, what, and the note (escaped, cut)."""
        lines = []
        for event in events:
            what = self.text(EVENT_TEXT[event.kind])
            when = self.when(report, event.at)
            if event.note:
                note = truncate(escape(event.note), EVENT_NOTE_SHOWN)
                lines.append(self.text("reports.card.event_note", when=when, what=what, note=note))
            else:
                lines.append(self.text("reports.card.event", when=when, what=what))
        return [self.text("reports.card.history"), *lines] if lines else []

    def card_text(
        self,
        report: Report,
        *,
        photos: int,
        viewer_is_staff: bool,
        notice: str | None = None,
        events: Sequence[ReportEvent] = (),
    ) -> str:
        lines = []
        if notice:
            lines.append(notice)
        header = self.text(
            "reports.card.header",
            number=escape(str(report.number)),
            category=self.category(report.category_code),
        )
        lines.append(f"<b>{header}</b>")  # its parts are escaped once, above
        lines.append(self.text("reports.card.place", place=self.place(report)))
        lines.append(self.description(report))
        lines.append(self.text("reports.card.counts", photos=photos, supports=report.supports))
        state = escape(state_name(self.painter.t, report.state))
        lines.append(self.text("reports.card.state", state=state, desk=self.desk(report.assignee)))
        if report.assignee.user_id is not None and report.is_open:
            lines.append(self.text("reports.card.taken_by", person=person(report.assignee.user_id)))
        if report.state is ReportState.REJECTED and report.reject_reason is not None:
            lines.append(
                self.text(
                    "reports.card.rejected_because",
                    reason=self.text(REASON_TEXT[report.reject_reason]),
                )
            )
        if report.is_open:
            lines.append(
                self.text(
                    "reports.card.deadlines",
                    accept_by=self.when(report, report.accept_by),
                    resolve_by=self.when(report, report.resolve_by),
                )
            )
        lines.append(
            self.text("reports.card.reporter", reporter=self.reporter(report, viewer_is_staff))
        )
        lines.extend(self.history(report, events))
        return "\n".join(lines)

    def card(
        self,
        report: Report,
        roles: Collection[ActorRole],
        *,
        photos: int,
        notice: str | None = None,
        events: Sequence[ReportEvent] = (),
    ) -> Screen:
        """A report's card, with a button for each action ``roles`` may take now, its
        latest ``events``, and "Answer" for the staff member who filed it on a
        resident's behalf while a question waits (nobody else is told of it)."""
        assert report.id is not None
        seen = STATE_CODE[report.state]
        buttons = [
            self.painter.button(self.text(BUTTON_TEXT[a]), ACT, report.id, ACTION_CODE[a], seen)
            for a in CARD_ACTIONS
            if decide_action(report.state, a, roles)[0] is ActionVerdict.ALLOWED
        ]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        if answer_awaited(report, roles, events):
            rows.append(
                [self.painter.button(self.text("reports.thread.answer"), ANSWER, report.id)]
            )
        resolution = fixed_awaited(report, roles, events)
        if resolution is not None:
            rows.append(self.fixed_row(report.id, resolution))
        text = self.card_text(
            report,
            photos=photos,
            viewer_is_staff=ActorRole.STAFF in roles,
            notice=notice,
            events=events,
        )
        return Screen(text, InlineKeyboardMarkup(rows) if rows else None)

    def fixed_row(self, report_id: int, resolve_event_id: int) -> list[InlineKeyboardButton]:
        """ "Is it fixed?" Yes / No about one resolution (its resolve event)."""
        return [
            self.painter.button(self.text(label), FIXED, report_id, resolve_event_id, answer)
            for label, answer in (
                (N_("reports.feedback.yes"), "y"),
                (N_("reports.feedback.no"), "n"),
            )
        ]

    def too_late(self, viewer_id: int, action: ReportAction | None, report: Report | None) -> str:
        """Why a press came too late, plain text (an alert): who has it, in words — the
        desk, or "you" for a second press of one's own accept — never a raw id."""
        if action is not ReportAction.ACCEPT or report is None or not report.is_open:
            return self.text("reports.card.stale")
        taker = report.assignee.user_id
        if taker == viewer_id:
            return self.text("reports.card.accepted_by_you")
        if taker is not None:
            return self.text("reports.card.accepted_at_desk", desk=self.desk_label(report.assignee))
        return self.text("reports.card.stale")

    def back(self, report: Report) -> InlineKeyboardButton:
        assert report.id is not None
        return self.painter.button(self.text("reports.card.back"), CARD, report.id)

    def reasons(self, report: Report) -> Screen:
        """Reject pressed: the reasons to choose from."""
        assert report.id is not None
        seen = STATE_CODE[report.state]
        rows = [
            [self.painter.button(self.text(REASON_TEXT[r]), REASON, report.id, seen, r.value)]
            for r in RejectReason
        ]
        rows.append([self.back(report)])
        text = self.text("reports.card.choose_reason", number=escape(str(report.number)))
        return Screen(text, InlineKeyboardMarkup(rows))

    def targets(self, report: Report) -> Screen:
        """Reassign pressed: the desks to send it to."""
        assert report.id is not None
        seen = STATE_CODE[report.state]
        rows = [
            [
                self.painter.button(
                    self.desk_label(target),
                    TARGET,
                    report.id,
                    seen,
                    KIND_CODE[target.kind],
                    target.code,
                )
            ]
            for target in reassign_targets(report, self.places)
        ]
        rows.append([self.back(report)])
        text = self.text("reports.card.choose_target", number=escape(str(report.number)))
        return Screen(text, InlineKeyboardMarkup(rows))

    def note_prompt(
        self, report: Report, action: ReportAction, reason: RejectReason | None = None
    ) -> Screen:
        """A typed step began: what to type, with Cancel (and "Reject now" for a rejection)."""
        assert report.id is not None
        text = self.text(
            NOTE_PROMPT[action],
            number=escape(str(report.number)),
            max=1000,
            photos=MAX_NOTE_PHOTOS,
        )
        rows: list[list[InlineKeyboardButton]] = []
        if action is ReportAction.REJECT and reason is not None:
            text += "\n" + self.text(
                "reports.card.reason_chosen", reason=self.text(REASON_TEXT[reason])
            )
            rows.append(
                [
                    self.painter.button(
                        self.text("reports.card.reject_now"),
                        REJECT_NOW,
                        report.id,
                        STATE_CODE[report.state],
                        reason.value,
                    )
                ]
            )
        rows.append([self.painter.button(self.text("reports.card.cancel"), CANCEL)])
        return Screen(text, InlineKeyboardMarkup(rows))

    def more(self, offset: int) -> Screen:
        button = self.painter.button(self.text("reports.queue.more"), MORE, offset)
        return Screen(self.text("reports.queue.more_prompt"), InlineKeyboardMarkup([[button]]))


def answer_awaited(
    report: Report, roles: Collection[ActorRole], events: Sequence[ReportEvent]
) -> bool:
    """An on-behalf report's filer sees "Answer" on the card: the latest question shown
    has no answer after it, and the reporter may answer now."""
    if not report.reporter.on_behalf or ActorRole.REPORTER not in roles:
        return False
    if decide_action(report.state, ReportAction.ANSWER, roles)[0] is not ActionVerdict.ALLOWED:
        return False
    asked = [e.kind for e in events if e.kind in (ReportAction.ASK, ReportAction.ANSWER)]
    return bool(asked) and asked[-1] is ReportAction.ASK


def fixed_awaited(
    report: Report, roles: Collection[ActorRole], events: Sequence[ReportEvent]
) -> int | None:
    """The resolve event an on-behalf report's filer answers "Is it fixed?" about on the
    card (for the resident without Telegram), while it is resolved; else ``None``."""
    if not report.reporter.on_behalf or ActorRole.REPORTER not in roles:
        return None
    if report.state is not ReportState.RESOLVED:
        return None
    resolved = [e for e in events if e.kind is ReportAction.RESOLVE and e.id is not None]
    return resolved[-1].id if resolved else None


# -- notices -----------------------------------------------------------------------------------

NOTICE_TEXT: Final = {
    ReportAction.ACCEPT: N_("reports.notice.accepted"),
    ReportAction.PROGRESS: N_("reports.notice.progress"),
    ReportAction.RESOLVE: N_("reports.notice.resolved"),
    ReportAction.REJECT: N_("reports.notice.rejected"),
    ReportAction.REASSIGN: N_("reports.notice.reassigned"),
    ReportAction.ASK: N_("reports.notice.question"),
}


@dataclass(frozen=True)
class OutboxNotices:
    """:class:`civic.reports_notices.ReportNotices` with the catalogs and the button codec."""

    catalogs: Catalogs
    codec: CallbackCodec
    places: Places

    def painter(self, language: str | None) -> CardPainter:
        t = self.catalogs.for_locale(resolve_locale(language, None))
        return CardPainter(Painter(t, self.codec, self.places))

    def to_reporter(
        self, report: Report, event: ReportEvent, language: str | None
    ) -> OutgoingMessage:
        cards = self.painter(language)
        assert event.kind is not None
        assert report.id is not None
        note = truncate(escape(event.note or ""), NOTE_SHOWN)
        reason = "" if event.reason is None else cards.text(REASON_TEXT[event.reason])
        desk = "" if event.assignee is None else cards.desk(event.assignee)
        text = cards.text(
            NOTICE_TEXT[event.kind],
            number=escape(str(report.number)),
            category=cards.category(report.category_code),
            note=note,
            reason=reason,
            desk=desk,
        )
        markup = None
        if event.kind is ReportAction.ASK:
            button = cards.painter.button(cards.text("reports.thread.answer"), ANSWER, report.id)
            markup = InlineKeyboardMarkup([[button]]).to_dict()
        elif event.kind is ReportAction.RESOLVE and event.id is not None:
            text += "\n\n" + cards.text(N_("reports.feedback.question"))
            markup = InlineKeyboardMarkup([cards.fixed_row(report.id, event.id)]).to_dict()
        return _message(report.reporter.user_id or 0, text, event, markup)

    def to_worker(
        self, report: Report, event: ReportEvent, recipient_id: int, language: str | None
    ) -> OutgoingMessage:
        cards = self.painter(language)
        assert report.id is not None
        if event.kind is ReportAction.RESOLVE and event.id is not None:
            return self.to_filer(cards, report, event, recipient_id)
        if event.note:
            answer = truncate(escape(event.note), NOTE_SHOWN)
        else:
            answer = cards.text("reports.thread.photos_only", count=len(event.attachments))
        text = cards.text(
            "reports.thread.answered", number=escape(str(report.number)), answer=answer
        )
        button = cards.painter.button(cards.text("reports.thread.open_card"), CARD, report.id)
        markup = InlineKeyboardMarkup([[button]]).to_dict()
        return _message(recipient_id, text, event, markup)

    def to_filer(
        self, cards: CardPainter, report: Report, event: ReportEvent, recipient_id: int
    ) -> OutgoingMessage:
        """An on-behalf report resolved: its filer asks the resident "Is it fixed?" and
        answers here for them (:func:`civic.reports_expiry.ask_filer`)."""
        assert report.id is not None
        assert event.id is not None
        text = cards.text(
            N_("reports.feedback.filer_resolved"),
            number=escape(str(report.number)),
            name=escape(report.reporter.name or ""),
            phone=escape(report.reporter.phone or ""),
            note=truncate(escape(event.note or ""), NOTE_SHOWN),
        )
        rows = [
            cards.fixed_row(report.id, event.id),
            [cards.painter.button(cards.text("reports.thread.open_card"), CARD, report.id)],
        ]
        return _message(recipient_id, text, event, InlineKeyboardMarkup(rows).to_dict())


def _message(
    chat_id: int, text: str, event: ReportEvent, markup: dict[str, object] | None
) -> OutgoingMessage:
    """A text notice, or a photo with the text as its caption when the event has one."""
    payload: dict[str, object] = {"parse_mode": "HTML"}
    if markup is not None:
        payload["reply_markup"] = markup
    if event.attachments:
        payload["photo"] = event.attachments[0]
        payload["caption"] = truncate(text, CAPTION_LIMIT)
        return OutgoingMessage(chat_id, payload, kind=MessageKind.PHOTO)
    payload["text"] = text
    return OutgoingMessage(chat_id, payload)
