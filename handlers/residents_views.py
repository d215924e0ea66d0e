"""What the residents capability shows: texts and keyboards, built by pure functions.

Nothing here talks to Telegram or the database: each builder takes a translator,
the button codec and the data to show, and returns a :class:`Screen` (HTML text
and inline keyboard), so unit tests can check every keyboard stays within
Telegram's limits (64 bytes of callback data, 100 buttons).

Button actions (the first word of each button's callback data):

``pick_language``, ``pick_community``, ``pick_compound``, ``pick_building``,
``skip_building``, ``skip_unit``, ``keep_unit``, ``give_consent``,
``confirm_profile``, ``flow_back``, ``flow_cancel``, ``flow_page`` — steps of
onboarding and relocating; ``set_language``, ``change_language``,
``change_address`` — ``/lang`` and ``/me``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.html import bold, escape
from bot.i18n import N_, Catalogs, Locale, Translator, format_date
from civic.places import Building, Community, Compound, Places
from civic.residents import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    MAX_UNIT_CHARS,
    ONBOARD,
    ProfileDraft,
    Resident,
    Step,
    VerificationLevel,
    place_names,
    previous_step,
    relocated,
)
from civic.roles import Action
from handlers.menus import Audience
from handlers.roles_views import help_sections

PICK_LANGUAGE: Final = "pick_language"
PICK_COMMUNITY: Final = "pick_community"
PICK_COMPOUND: Final = "pick_compound"
PICK_BUILDING: Final = "pick_building"
SKIP_BUILDING: Final = "skip_building"
SKIP_UNIT: Final = "skip_unit"
KEEP_UNIT: Final = "keep_unit"
GIVE_CONSENT: Final = "give_consent"
CONFIRM_PROFILE: Final = "confirm_profile"
FLOW_BACK: Final = "flow_back"
FLOW_CANCEL: Final = "flow_cancel"
FLOW_PAGE: Final = "flow_page"
SET_LANGUAGE: Final = "set_language"
CHANGE_LANGUAGE: Final = "change_language"
CHANGE_ADDRESS: Final = "change_address"
ERASE_DATA: Final = "erase_me"
KEEP_DATA: Final = "keep_me"

STEP_ACTIONS: Final = (
    PICK_LANGUAGE,
    PICK_COMMUNITY,
    PICK_COMPOUND,
    PICK_BUILDING,
    SKIP_BUILDING,
    SKIP_UNIT,
    KEEP_UNIT,
    GIVE_CONSENT,
    CONFIRM_PROFILE,
    FLOW_BACK,
)
"""Presses that answer a step of onboarding or relocating."""

PLACES_PER_PAGE: Final = 10
BUILDINGS_PER_PAGE: Final = 12
CHOSEN: Final = "✓ "

LANGUAGE_PROMPT: Final = N_("residents.onboard.language")
LANGUAGE_NAME: Final = {
    "zh_CN": N_("residents.language.zh"),
    "en": N_("residents.language.en"),
}
LEVEL_TEXT: Final = {
    VerificationLevel.UNVERIFIED: N_("residents.level.unverified"),
    VerificationLevel.LOCATED: N_("residents.level.located"),
    VerificationLevel.VERIFIED: N_("residents.level.verified"),
}
STEP_PROMPT: Final = {
    Step.COMMUNITY: N_("residents.onboard.community"),
    Step.COMPOUND: N_("residents.onboard.compound"),
    Step.BUILDING: N_("residents.onboard.building"),
    Step.UNIT: N_("residents.onboard.unit"),
    Step.CONSENT: N_("residents.onboard.privacy"),
    Step.CONFIRM: N_("residents.onboard.summary"),
}


@dataclass(frozen=True)
class Screen:
    """One message: HTML text and its inline keyboard (``None``: no buttons)."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Painter:
    """Builds screens in one language with one button codec."""

    t: Translator
    codec: CallbackCodec
    places: Places

    @property
    def locale(self) -> Locale:
        return self.t.locale

    def button(self, label: str, action: str, *args: str | int) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=self.codec.encode(action, *args))

    # -- names ------------------------------------------------------------------------

    def place(self, place: Community | Compound | None) -> str:
        if place is None:
            return self.t("residents.profile.none")
        return place.name_en if self.locale == "en" else place.name

    def building(self, building: Building | None) -> str:
        if building is None:
            return self.t("residents.profile.none")
        return self.t("residents.building.label", label=building.label)

    def unit(self, label: str | None) -> str:
        return escape(label) if label else self.t("residents.profile.none")

    def address_lines(
        self,
        community: str | None,
        compound: str | None,
        building: str | None,
        unit: str | None,
    ) -> str:
        names = place_names(self.places, community, compound, building)
        return self.t(
            "residents.profile.address",
            community=escape(self.place(names.community)),
            compound=escape(self.place(names.compound)),
            building=escape(self.building(names.building)),
            unit=self.unit(unit),
        )


# -- the steps ----------------------------------------------------------------------------


def language_prompt(catalogs: Catalogs) -> str:
    """The language question in both languages: the reader may read only one of them."""
    return "\n".join(catalogs.for_locale(lang)(LANGUAGE_PROMPT) for lang in LANGUAGES)


def language_buttons(painter: Painter, action: str, *extra: str) -> list[InlineKeyboardButton]:
    return [
        painter.button(painter.t(LANGUAGE_NAME[lang]), action, lang, *extra) for lang in LANGUAGES
    ]


def step_screen(
    painter: Painter,
    catalogs: Catalogs,
    flow_name: str,
    step: Step,
    draft: ProfileDraft,
    *,
    notice: str | None = None,
    page: int | None = None,
    previous: Resident | None = None,
) -> Screen:
    """The message of a flow at ``step``: an optional notice, the question, its buttons.

    ``page`` of a long list of places; by default the page with the current choice.
    """
    t = painter.t
    rows: list[list[InlineKeyboardButton]] = []
    if step is Step.LANGUAGE:
        body = language_prompt(catalogs)
        rows.append(language_buttons(painter, PICK_LANGUAGE))
    elif step is Step.COMMUNITY:
        body = t(STEP_PROMPT[step])
        rows += paged(
            painter,
            step,
            [
                painter.button(
                    chosen(painter.place(c), c.code == draft.community_code), PICK_COMMUNITY, c.code
                )
                for c in painter.places.communities
            ],
            page,
            PLACES_PER_PAGE,
            columns=2,
        )
    elif step is Step.COMPOUND:
        names = place_names(painter.places, draft.community_code, None, None)
        body = t(STEP_PROMPT[step], community=escape(painter.place(names.community)))
        rows += paged(
            painter,
            step,
            [
                painter.button(
                    chosen(painter.place(c), c.code == draft.compound_code), PICK_COMPOUND, c.code
                )
                for c in painter.places.compounds_of(draft.community_code or "")
            ],
            page,
            PLACES_PER_PAGE,
            columns=2,
        )
    elif step is Step.BUILDING:
        names = place_names(painter.places, None, draft.compound_code, None)
        body = t(STEP_PROMPT[step], compound=escape(painter.place(names.compound)))
        rows += paged(
            painter,
            step,
            [
                painter.button(
                    chosen(painter.building(b), b.code == draft.building_code),
                    PICK_BUILDING,
                    b.code,
                )
                for b in painter.places.buildings_of(draft.compound_code or "")
            ],
            page,
            BUILDINGS_PER_PAGE,
            columns=3,
        )
        rows.append([painter.button(t("residents.onboard.skip_building"), SKIP_BUILDING)])
    elif step is Step.UNIT:
        body = t(STEP_PROMPT[step], max=MAX_UNIT_CHARS)
        if draft.unit_label:
            body += "\n" + t("residents.onboard.unit_current", unit=escape(draft.unit_label))
            rows.append(
                [painter.button(t("residents.onboard.keep_unit", unit=draft.unit_label), KEEP_UNIT)]
            )
        rows.append([painter.button(t("residents.onboard.skip_unit"), SKIP_UNIT)])
    elif step is Step.CONSENT:
        body = t(STEP_PROMPT[step])
        rows.append([painter.button(t("residents.onboard.agree"), GIVE_CONSENT)])
    elif step is Step.CONFIRM:
        body = summary(painter, flow_name, draft, previous)
        rows.append([painter.button(t("common.button.confirm"), CONFIRM_PROFILE)])
    else:
        raise ValueError(f"no screen for step {step!r}")
    navigation = []
    if previous_step(flow_name, step, draft, painter.places) is not None:
        navigation.append(painter.button(t("common.button.back"), FLOW_BACK, step.value))
    navigation.append(painter.button(t("common.button.cancel"), FLOW_CANCEL))
    rows.append(navigation)
    text = body if notice is None else f"{notice}\n\n{body}"
    return Screen(text, InlineKeyboardMarkup(rows))


def chosen(label: str, is_chosen: bool) -> str:
    return CHOSEN + label if is_chosen else label


def paged(
    painter: Painter,
    step: Step,
    buttons: Sequence[InlineKeyboardButton],
    page: int | None,
    per_page: int,
    *,
    columns: int,
) -> list[list[InlineKeyboardButton]]:
    """``buttons`` of one page in rows of ``columns``, with ‹ › when there are more pages.

    A community may have dozens of compounds (the seed counts 775 old compounds
    in 13 communities): a page keeps the keyboard on one screen. Without a
    ``page``, the one with the chosen button (marked :data:`CHOSEN`) is shown.
    """
    if page is None:
        marked = (i for i, b in enumerate(buttons) if b.text.startswith(CHOSEN))
        page = next(marked, 0) // per_page
    pages = max(1, -(-len(buttons) // per_page))
    page = min(max(page, 0), pages - 1)
    shown = buttons[page * per_page : (page + 1) * per_page]
    rows = [list(shown[i : i + columns]) for i in range(0, len(shown), columns)]
    if pages > 1:
        turn = []
        if page > 0:
            turn.append(painter.button("‹", FLOW_PAGE, step.value, page - 1))
        turn.append(painter.button(f"{page + 1}/{pages}", FLOW_PAGE, step.value, page))
        if page < pages - 1:
            turn.append(painter.button("›", FLOW_PAGE, step.value, page + 1))
        rows.append(turn)
    return rows


def summary(
    painter: Painter, flow_name: str, draft: ProfileDraft, previous: Resident | None
) -> str:
    t = painter.t
    lines = [
        t(STEP_PROMPT[Step.CONFIRM]),
        painter.address_lines(
            draft.community_code, draft.compound_code, draft.building_code, draft.unit_label
        ),
    ]
    if flow_name == ONBOARD:
        language = LANGUAGE_NAME[draft.language or DEFAULT_LANGUAGE]
        lines.append(t("residents.profile.language", language=t(language)))
        lines.append(t("residents.profile.level", level=t(LEVEL_TEXT[draft.level])))
    elif previous is not None:
        after = relocated(previous, draft, previous.updated_at).level
        if after is not previous.level:
            lines.append(
                t(
                    "residents.relocate.level_warning",
                    before=t(LEVEL_TEXT[previous.level]),
                    after=t(LEVEL_TEXT[after]),
                )
            )
    return "\n".join(lines)


def cancelled_screen(t: Translator, resume_hint: str) -> Screen:
    """A flow left with Cancel; ``resume_hint`` is the catalog id saying how to go on."""
    return Screen(t("common.cancelled") + "\n" + t(resume_hint))


def registered_screen(painter: Painter, resident: Resident) -> Screen:
    t = painter.t
    return Screen(
        "\n\n".join(
            [
                bold(t("residents.onboard.done")),
                profile_text(painter, resident, heading=False),
                t("residents.help.resident"),
            ]
        )
    )


def relocated_screen(painter: Painter, previous: Resident | None, resident: Resident) -> Screen:
    t = painter.t
    parts = [bold(t("residents.relocate.done")), profile_text(painter, resident, heading=False)]
    if previous is not None and previous.level is not resident.level:
        parts.append(
            t(
                "residents.relocate.level_changed",
                before=t(LEVEL_TEXT[previous.level]),
                after=t(LEVEL_TEXT[resident.level]),
            )
        )
    return Screen("\n\n".join(parts))


# -- /me, /lang, /help ------------------------------------------------------------------------


def profile_text(painter: Painter, resident: Resident, *, heading: bool = True) -> str:
    t = painter.t
    timezone = painter.places.timezone_of(resident.community_code)
    lines = [bold(t("residents.profile.title"))] if heading else []
    lines += [
        painter.address_lines(
            resident.community_code,
            resident.compound_code,
            resident.building_code,
            resident.unit_label,
        ),
        t("residents.profile.level", level=t(LEVEL_TEXT[resident.level])),
        t("residents.profile.language", language=t(LANGUAGE_NAME[resident.language])),
        t(
            "residents.profile.since",
            date=format_date(resident.created_at, painter.locale, timezone),
        ),
    ]
    return "\n".join(lines)


def profile_screen(painter: Painter, resident: Resident, *, notice: str | None = None) -> Screen:
    t = painter.t
    text = profile_text(painter, resident)
    if notice:
        text = f"{notice}\n\n{text}"
    return Screen(
        text,
        InlineKeyboardMarkup(
            [
                [
                    painter.button(t("residents.me.change_language"), CHANGE_LANGUAGE),
                    painter.button(t("residents.me.change_address"), CHANGE_ADDRESS),
                ]
            ]
        ),
    )


def erase_question_screen(painter: Painter) -> Screen:
    """``/deleteme``: erase or keep, asked before anything is erased."""
    t = painter.t
    return Screen(
        t("residents.deleteme.ask"),
        InlineKeyboardMarkup(
            [
                [painter.button(t("residents.deleteme.erase"), ERASE_DATA)],
                [painter.button(t("residents.deleteme.keep"), KEEP_DATA)],
            ]
        ),
    )


def language_screen(painter: Painter, catalogs: Catalogs, origin: str) -> Screen:
    """The /lang question; ``origin`` ("lang" or "me") says where a choice returns to."""
    return Screen(
        language_prompt(catalogs),
        InlineKeyboardMarkup([language_buttons(painter, SET_LANGUAGE, origin)]),
    )


def help_text(
    t: Translator,
    *,
    registered: bool,
    audiences: Collection[Audience] | None = None,
    actions: Collection[Action] = (),
) -> str:
    """What this person can do, from the one table of commands (:mod:`handlers.menus`).

    ``common.help`` comes first (what the bot is); then the commands of every
    audience the person belongs to: a newcomer's, a resident's, staff's, admins'.
    """
    found = set(audiences or ()) | {Audience.EVERYONE}
    if registered:
        found.add(Audience.RESIDENT)
    return "\n\n".join([t("common.help"), *help_sections(t, found, actions)])
