"""What owner claims show: the claim flow's steps, the reviewer's card, the notices.

Pure builders like :mod:`handlers.residents_views`: a translator, the button
codec and the data in, a :class:`Screen` (HTML and inline keyboard) or an
outbox message out, so unit tests can check every keyboard fits Telegram.

Button actions: ``claim_building``, ``claim_keep_unit``, ``claim_skip_photo``,
``claim_confirm``, ``claim_back``, ``claim_edit``, ``claim_cancel`` — steps of
the claim; ``claim_withdraw`` — the claimant takes a pending claim back;
``claim_review``, ``claim_approve``, ``claim_reject``, ``claim_reason``,
``claim_card``, ``claim_photo`` — staff reviewing (each carries the claim id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.html import bold, escape
from bot.i18n import N_, Catalogs, Translator, format_date, resolve_locale
from civic.outbox import OutgoingMessage
from civic.places import Places
from civic.register_claims import (
    MAX_NAME_CHARS,
    MAX_REASON_CHARS,
    Claim,
    ClaimDraft,
    ClaimOutcome,
    ClaimStatus,
    DeedKind,
    RejectReason,
    Step,
    format_area,
    previous_step,
    review_notice_key,
    split_unit_scope,
)
from civic.residents import MAX_UNIT_CHARS, place_names
from civic.roles import Grant
from handlers.residents_views import Painter, Screen

PICK_BUILDING: Final = "claim_building"
KEEP_UNIT: Final = "claim_keep_unit"
SKIP_PHOTO: Final = "claim_skip_photo"
CONFIRM: Final = "claim_confirm"
BACK: Final = "claim_back"
EDIT: Final = "claim_edit"
CANCEL: Final = "claim_cancel"
WITHDRAW: Final = "claim_withdraw"
REVIEW: Final = "claim_review"
APPROVE: Final = "claim_approve"
ASK_REASON: Final = "claim_reject"
REASON: Final = "claim_reason"
CARD: Final = "claim_card"
PHOTO: Final = "claim_photo"

STEP_ACTIONS: Final = (PICK_BUILDING, KEEP_UNIT, SKIP_PHOTO, CONFIRM, BACK, EDIT)
"""Presses that answer a step of the claim flow."""

BUILDINGS_PER_ROW: Final = 3

STEP_PROMPT: Final = {
    Step.BUILDING: N_("register.claim.building"),
    Step.UNIT: N_("register.claim.unit"),
    Step.AREA: N_("register.claim.area"),
    Step.NAME: N_("register.claim.name"),
    Step.PHOTO: N_("register.claim.photo"),
    Step.CONFIRM: N_("register.claim.summary"),
}
EDIT_LABEL: Final = {
    Step.BUILDING: N_("register.claim.edit_building"),
    Step.UNIT: N_("register.claim.edit_unit"),
    Step.AREA: N_("register.claim.edit_area"),
    Step.NAME: N_("register.claim.edit_name"),
    Step.PHOTO: N_("register.claim.edit_photo"),
}
REFUSAL_TEXT: Final = {
    ClaimOutcome.UNIT_EMPTY: N_("register.claim.unit_empty"),
    ClaimOutcome.UNIT_TOO_LONG: N_("register.claim.unit_too_long"),
    ClaimOutcome.UNIT_INVALID: N_("register.claim.unit_invalid"),
    ClaimOutcome.AREA_EMPTY: N_("register.claim.area_empty"),
    ClaimOutcome.AREA_NOT_A_NUMBER: N_("register.claim.area_not_a_number"),
    ClaimOutcome.AREA_TOO_PRECISE: N_("register.claim.area_too_precise"),
    ClaimOutcome.AREA_OUT_OF_RANGE: N_("register.claim.area_out_of_range"),
    ClaimOutcome.NAME_EMPTY: N_("register.claim.name_empty"),
    ClaimOutcome.NAME_TOO_LONG: N_("register.claim.name_too_long"),
    ClaimOutcome.NAME_INVALID: N_("register.claim.name_invalid"),
}
STATUS_TEXT: Final = {
    ClaimStatus.PENDING: N_("register.status.pending"),
    ClaimStatus.APPROVED: N_("register.status.approved"),
    ClaimStatus.REJECTED: N_("register.status.rejected"),
    ClaimStatus.WITHDRAWN: N_("register.status.withdrawn"),
}
REASON_TEXT: Final = {
    RejectReason.DEED_MISMATCH: N_("register.reason.deed_mismatch"),
    RejectReason.AREA_DIFFERS: N_("register.reason.area_differs"),
    RejectReason.ILLEGIBLE: N_("register.reason.illegible"),
    RejectReason.NO_DEED: N_("register.reason.no_deed"),
}


# -- names ------------------------------------------------------------------------------------


def unit_text(
    painter: Painter, compound_code: str | None, building_code: str | None, unit: str | None
) -> str:
    """A unit for a sentence, HTML-escaped: compound, building and unit label in the
    reader's language (``residents.building.label`` names the building)."""
    names = place_names(painter.places, None, compound_code, building_code)
    parts = [painter.place(names.compound)]
    if names.building is not None:
        parts.append(painter.building(names.building))
    if unit:
        parts.append(unit)
    return escape(" ".join(parts))


def claim_unit(painter: Painter, claim: Claim) -> str:
    return unit_text(painter, claim.compound_code, claim.building_code, claim.unit_label)


def community_name(painter: Painter, code: str) -> str:
    names = place_names(painter.places, code, None, None)
    return escape(painter.place(names.community)) if names.community else escape(code)


def person(user_id: int) -> str:
    """A person shown by Telegram id, as a link that opens their profile."""
    return f'<a href="tg://user?id={user_id}">{user_id}</a>'


def when(painter: Painter, claim: Claim) -> str:
    timezone = painter.places.timezone_of(claim.community_code)
    moment = claim.decided_at or claim.created_at
    return format_date(moment, painter.locale, timezone)


def reason_text(t: Translator, claim: Claim) -> str:
    if claim.reason_code is not None:
        return t(REASON_TEXT[claim.reason_code])
    return escape(claim.reason or "")


# -- the claim flow ---------------------------------------------------------------------------


def step_screen(
    painter: Painter, step: Step, draft: ClaimDraft, *, notice: str | None = None
) -> Screen:
    """The claim flow's message at ``step``: an optional notice, the question, its buttons."""
    t = painter.t
    rows: list[list[InlineKeyboardButton]] = []
    if step is Step.BUILDING:
        names = place_names(painter.places, None, draft.compound_code, None)
        body = t(STEP_PROMPT[step], compound=escape(painter.place(names.compound)))
        buildings = [
            painter.button(
                ("✓ " if b.code == draft.building_code else "") + painter.building(b),
                PICK_BUILDING,
                b.code,
            )
            for b in painter.places.buildings_of(draft.compound_code or "")
        ]
        rows += [
            buildings[i : i + BUILDINGS_PER_ROW]
            for i in range(0, len(buildings), BUILDINGS_PER_ROW)
        ]
    elif step is Step.UNIT:
        body = t(STEP_PROMPT[step], max=MAX_UNIT_CHARS)
        if draft.unit_label:
            rows.append(
                [painter.button(t("register.claim.use_unit", unit=draft.unit_label), KEEP_UNIT)]
            )
    elif step is Step.AREA:
        body = t(STEP_PROMPT[step])
        if draft.area_centi_m2 is not None:
            body += "\n" + t("register.claim.current", value=format_area(draft.area_centi_m2))
    elif step is Step.NAME:
        body = t(STEP_PROMPT[step], max=MAX_NAME_CHARS)
        if draft.owner_name is not None:
            body += "\n" + t("register.claim.current", value=escape(draft.owner_name))
    elif step is Step.PHOTO:
        body = t(STEP_PROMPT[step])
        rows.append([painter.button(t("register.claim.skip_photo"), SKIP_PHOTO)])
    elif step is Step.CONFIRM:
        body = "\n".join([t(STEP_PROMPT[step]), draft_lines(painter, draft)])
        rows.append([painter.button(t("register.claim.submit"), CONFIRM)])
        editable = [s for s in EDIT_LABEL if s is not Step.BUILDING or not draft.own_building]
        if not painter.places.buildings_of(draft.compound_code or ""):
            editable = [s for s in editable if s is not Step.BUILDING]
        edits = [painter.button(t(EDIT_LABEL[s]), EDIT, s.value) for s in editable]
        rows += [edits[i : i + 2] for i in range(0, len(edits), 2)]
    else:
        raise ValueError(f"no screen for step {step!r}")
    navigation = []
    if previous_step(step, draft, painter.places) is not None:
        navigation.append(painter.button(t("common.button.back"), BACK, step.value))
    navigation.append(painter.button(t("common.button.cancel"), CANCEL))
    rows.append(navigation)
    heading = bold(t("register.claim.title"))
    text = f"{heading}\n{body}" if notice is None else f"{notice}\n\n{heading}\n{body}"
    return Screen(text, InlineKeyboardMarkup(rows))


def draft_lines(painter: Painter, draft: ClaimDraft) -> str:
    t = painter.t
    lines = [
        t(
            "register.claim.line.unit",
            unit=unit_text(painter, draft.compound_code, draft.building_code, draft.unit_label),
        ),
        t("register.claim.line.area", area=format_area(draft.area_centi_m2 or 0)),
        t("register.claim.line.name", name=escape(draft.owner_name or "")),
        t(deed_line(draft.deed_file_id, draft.deed_kind)),
    ]
    return "\n".join(lines)


def deed_line(file_id: str | None, kind: DeedKind | None) -> str:
    """The catalog id of the summary's deed line: a photo, a file, or none."""
    if not file_id:
        return N_("register.claim.line.photo_no")
    if kind is DeedKind.DOCUMENT:
        return N_("register.claim.line.file_yes")
    return N_("register.claim.line.photo_yes")


def claim_lines(painter: Painter, claim: Claim) -> str:
    t = painter.t
    return "\n".join(
        [
            t("register.claim.line.unit", unit=claim_unit(painter, claim)),
            t("register.claim.line.area", area=format_area(claim.area_centi_m2)),
            t("register.claim.line.name", name=escape(claim.owner_name)),
            t(deed_line(claim.deed_file_id, claim.deed_kind)),
        ]
    )


def refusal_notice(t: Translator, outcome: ClaimOutcome, text: str) -> str:
    """What to say about refused input, with the limits it broke."""
    cleaned = " ".join(text.split())
    return t(
        REFUSAL_TEXT[outcome],
        max=MAX_NAME_CHARS if outcome is ClaimOutcome.NAME_TOO_LONG else MAX_UNIT_CHARS,
        length=len(cleaned),
        text=escape(cleaned[:40]),
    )


def submitted_screen(painter: Painter, claim: Claim, *, already: bool = False) -> Screen:
    """After confirming: sent (or already waiting), with a button to withdraw it."""
    t = painter.t
    first = (
        t("register.claim.already_pending")
        if already
        else t("register.claim.submitted", community=community_name(painter, claim.community_code))
    )
    return Screen(
        f"{bold(first)}\n\n{claim_lines(painter, claim)}",
        withdraw_keyboard(painter, claim),
    )


def withdraw_keyboard(painter: Painter, claim: Claim) -> InlineKeyboardMarkup | None:
    if claim.id is None or not claim.pending:
        return None
    return InlineKeyboardMarkup(
        [[painter.button(painter.t("register.claim.withdraw"), WITHDRAW, claim.id)]]
    )


def pending_note(painter: Painter, pending: Sequence[Claim]) -> str | None:
    """Shown when a claim starts: the person's claims still waiting for staff."""
    if not pending:
        return None
    units = ", ".join(claim_unit(painter, c) for c in pending)
    return painter.t("register.claim.pending_note", count=len(pending), units=units)


# -- reviewing -----------------------------------------------------------------------------------


def card_text(painter: Painter, claim: Claim) -> str:
    t = painter.t
    lines = [
        bold(
            t(
                "register.review.card",
                id=claim.id or 0,
                community=community_name(painter, claim.community_code),
            )
        ),
        t("register.review.claimant", who=person(claim.user_id), date=when(painter, claim)),
        claim_lines(painter, claim),
    ]
    if not claim.pending:
        lines.append(decided_line(painter, claim))
    return "\n".join(lines)


def decided_line(painter: Painter, claim: Claim) -> str:
    t = painter.t
    line = t(
        "register.review.decided",
        status=t(STATUS_TEXT[claim.status]),
        who=person(claim.decided_by or claim.user_id),
        date=when(painter, claim),
    )
    if claim.status is ClaimStatus.REJECTED:
        line += "\n" + t("register.review.reason_line", reason=reason_text(t, claim))
    return line


def card_screen(painter: Painter, claim: Claim, *, notice: str | None = None) -> Screen:
    """A claim for a reviewer: Approve / Reject, and Show deed photo when there is one."""
    t = painter.t
    text = card_text(painter, claim)
    if notice:
        text = f"{notice}\n\n{text}"
    if not claim.pending or claim.id is None:
        return Screen(text)
    rows = [
        [
            painter.button(t("register.review.approve"), APPROVE, claim.id),
            painter.button(t("register.review.reject"), ASK_REASON, claim.id),
        ]
    ]
    if claim.deed_file_id:
        label = (
            "register.review.show_file" if claim.deed_is_document else "register.review.show_photo"
        )
        rows.append([painter.button(t(label), PHOTO, claim.id)])
    return Screen(text, InlineKeyboardMarkup(rows))


def reason_screen(painter: Painter, claim: Claim) -> Screen:
    """Reject: choose a common reason, or type one."""
    t = painter.t
    if claim.id is None:
        raise ValueError("a stored claim has an id")
    text = (
        f"{card_text(painter, claim)}\n\n{t('register.review.reason_prompt', max=MAX_REASON_CHARS)}"
    )
    rows = [[painter.button(t(REASON_TEXT[r]), REASON, claim.id, r.value)] for r in RejectReason]
    rows.append([painter.button(t("common.button.back"), CARD, claim.id)])
    return Screen(text, InlineKeyboardMarkup(rows))


def already_text(t: Translator, claim: Claim, viewer: int | None) -> str:
    """A press on a claim decided before: by this viewer, or by someone else."""
    if viewer is not None and claim.decided_by == viewer:
        return t("register.review.already_yours")
    return t("register.review.already")


def decided_screen(
    painter: Painter, claim: Claim, *, by_me: bool, viewer: int | None = None
) -> Screen:
    """The card once decided: by this reviewer just now, or before (by them or someone else)."""
    t = painter.t
    if not by_me:
        notice = already_text(t, claim, viewer)
    elif claim.status is ClaimStatus.APPROVED:
        notice = t("register.review.approved_now", unit=claim_unit(painter, claim))
    else:
        notice = t("register.review.rejected_now", reason=reason_text(t, claim))
    return Screen(f"{bold(notice)}\n\n{card_text(painter, claim)}")


def list_header(painter: Painter, community_code: str, shown: int, total: int, own: int = 0) -> str:
    """``/claims``' first message: how many wait, how many are shown, and the viewer's own
    claims left out (so staff who claimed know why theirs is missing)."""
    t = painter.t
    community = community_name(painter, community_code)
    if total == 0:
        text = t("register.review.none", community=community)
    else:
        text = t("register.review.header", community=community, total=total)
        if shown < total:
            text += "\n" + t("register.review.more", shown=shown, total=total)
    if own:
        text += "\n" + t("register.review.own_left_out", count=own)
    return text


# -- notices through the outbox ---------------------------------------------------------------


@dataclass(frozen=True)
class OutboxNotices:
    """:class:`civic.register_claims.ClaimNotices` with the catalogs and the button codec."""

    catalogs: Catalogs
    codec: CallbackCodec
    places: Places

    def painter(self, language: str | None) -> Painter:
        t = self.catalogs.for_locale(resolve_locale(language, None))
        return Painter(t, self.codec, self.places)

    def to_reviewer(self, claim: Claim, reviewer_id: int, language: str | None) -> OutgoingMessage:
        painter = self.painter(language)
        t = painter.t
        if claim.id is None:
            raise ValueError("a stored claim has an id")
        text = "\n".join(
            [
                bold(
                    t(
                        "register.review.notify",
                        community=community_name(painter, claim.community_code),
                    )
                ),
                claim_lines(painter, claim),
            ]
        )
        keyboard = InlineKeyboardMarkup(
            [[painter.button(t("register.review.button"), REVIEW, claim.id)]]
        )
        return OutgoingMessage(
            reviewer_id,
            {"text": text, "parse_mode": "HTML", "reply_markup": keyboard.to_dict()},
            dedupe_key=review_notice_key(claim.id, reviewer_id),
        )

    def to_claimant(self, claim: Claim, language: str | None) -> OutgoingMessage:
        painter = self.painter(language)
        t = painter.t
        unit = claim_unit(painter, claim)
        if claim.status is ClaimStatus.APPROVED:
            text = t("register.decided.approved", unit=unit, area=format_area(claim.area_centi_m2))
        else:
            text = t("register.decided.rejected", unit=unit, reason=reason_text(t, claim))
        return OutgoingMessage(
            claim.user_id,
            {"text": text, "parse_mode": "HTML"},
            dedupe_key=f"register:claim:{claim.id}:decided",
        )


# -- /me ---------------------------------------------------------------------------------------


def owner_lines(painter: Painter, grants: Sequence[Grant], pending: int) -> str | None:
    """``/me``: the units this person owns, and how many claims wait."""
    t = painter.t
    lines = []
    if grants:
        units = []
        for grant in grants:
            compound, building, unit = split_unit_scope(grant.scope.code)
            units.append(unit_text(painter, compound, building, unit))
        lines.append(t("register.me.owner", units="; ".join(units)))
    if pending:
        lines.append(t("register.me.pending", count=pending))
    return "\n".join(lines) if lines else None
