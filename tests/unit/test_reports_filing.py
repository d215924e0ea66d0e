"""Filing a report: the pure steps of ``/report``, the report a draft makes, and its screens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.callbacks import CallbackCodec
from bot.config import load_config_file, places_from_config
from bot.config.models import ReportsSection
from bot.config.places import holiday_rules_from_config
from bot.config.reports import deadline_policy_from_config, routing_rules_from_config
from bot.html import utf16_length
from bot.i18n import Catalogs
from civic.flows import GoBack
from civic.reports import Report, TrackingNumber
from civic.reports_filing import (
    MAX_NAME_CHARS,
    Answer,
    CaptionedPhoto,
    ChooseAnonymous,
    ChooseCategory,
    ChooseCompound,
    ChooseWho,
    ClearPhotos,
    EditStep,
    EnterDescription,
    EnterName,
    EnterPhone,
    FileAnyway,
    FileOutcome,
    FilingPolicy,
    GiveLocation,
    GivePhoto,
    GiveVoice,
    PhotosDone,
    ReportDraft,
    Step,
    SubmitReport,
    SupportReport,
    UseHomePlace,
    answer_step,
    first_missing,
    local_year,
    new_report,
    previous_step,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.workdays import WorkingCalendar
from handlers.reports import CAPTION_NOTICES, PRESS_NOTICES
from handlers.reports_views import (
    CATEGORIES_PER_PAGE,
    REFUSAL_TEXT,
    my_reports_text,
    refusal_notice,
    step_screen,
    submitted_screen,
    supported_screen,
)
from handlers.residents_views import Painter
from tests.helpers import SHIPPED_CONFIG

CONFIG = load_config_file(SHIPPED_CONFIG)
PLACES = places_from_config(CONFIG)
POLICY = FilingPolicy(
    rules=routing_rules_from_config(CONFIG),
    deadlines=deadline_policy_from_config(CONFIG),
    calendar=WorkingCalendar(holiday_rules_from_config(CONFIG)),
    description_max_chars=100,
    max_photos=2,
    duplicate_window_days=14,
)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
CATALOGS = Catalogs.load(strict=True)
CODEC = CallbackCodec(b"k" * 32)

RESIDENT = ReportDraft(home_community="HD", home_compound="HD-01", home_building="HD-01-2").placed(
    "HD-01"
)
STAFF = ReportDraft(can_self=False, filer_communities=("HD",), on_behalf=True)


def painter(locale: str = "en") -> Painter:
    return Painter(CATALOGS.for_locale(locale), CODEC, PLACES)  # type: ignore[arg-type]


def walk(draft: ReportDraft, *answers: Answer) -> tuple[Step, ReportDraft, FileOutcome]:
    step = first_missing(draft, POLICY) or Step.PREVIEW
    outcome = FileOutcome.MOVED
    for answer in answers:
        moved = answer_step(step, draft, answer, PLACES, POLICY)
        step, draft, outcome = moved.step, moved.draft, moved.outcome
    return step, draft, outcome


FILLED = walk(
    RESIDENT,
    ChooseCategory("garbage"),
    EnterDescription("Rubbish by building 2"),
    GivePhoto("p1"),
    PhotosDone(),
    UseHomePlace(),
    ChooseAnonymous(False),
)[1]


def test_a_resident_is_asked_category_description_photos_location_anonymity_then_the_preview() -> (
    None
):
    seen = []
    step, draft = first_missing(RESIDENT, POLICY), RESIDENT
    answers: list[Answer] = [
        ChooseCategory("garbage"),
        EnterDescription("Rubbish"),
        PhotosDone(),
        GiveLocation(27.7, 109.1),
        ChooseAnonymous(True),
    ]
    for answer in answers:
        assert step is not None
        seen.append(step)
        moved = answer_step(step, draft, answer, PLACES, POLICY)
        assert moved.outcome is FileOutcome.MOVED
        step, draft = moved.step, moved.draft
    assert seen == [Step.CATEGORY, Step.DESCRIPTION, Step.PHOTOS, Step.LOCATION, Step.ANONYMOUS]
    assert step is Step.PREVIEW
    assert (draft.latitude, draft.longitude, draft.anonymous) == (27.7, 109.1, True)


def test_staff_who_are_residents_are_asked_for_whom_and_on_behalf_name_phone_compound() -> None:
    both = replace(RESIDENT, filer_communities=("HD",))
    assert first_missing(both, POLICY) is Step.WHO
    step, draft, _ = walk(both, ChooseWho(True))
    assert step is Step.NAME
    assert draft.compound_code is None  # their own compound is not the resident's
    step, draft, _ = walk(both, ChooseWho(True), EnterName("张大爷"), EnterPhone("0851-1234567"))
    assert step is Step.COMPOUND
    assert draft.reporter_phone == "08511234567"
    step, draft, _ = walk(both, ChooseWho(False))
    assert step is Step.CATEGORY
    assert draft.compound_code == "HD-01"
    assert first_missing(STAFF, POLICY) is Step.NAME  # staff only: on behalf, no question


@pytest.mark.parametrize(
    ("draft", "answers", "outcome"),
    [
        (RESIDENT, [ChooseCategory("garbage"), EnterDescription("  ")], "description_empty"),
        (
            RESIDENT,
            [ChooseCategory("garbage"), EnterDescription("x" * 101)],
            "description_too_long",
        ),
        (
            RESIDENT,
            [ChooseCategory("garbage"), GiveVoice("v", caption="y" * 101)],
            "description_too_long",
        ),
        (RESIDENT, [ChooseCategory("no_such_category")], "unknown_category"),
        (STAFF, [EnterName("")], "name_empty"),
        (STAFF, [EnterName("名" * (MAX_NAME_CHARS + 1))], "name_too_long"),
        (STAFF, [EnterName("Zhang\nWei")], "name_invalid"),
        (STAFF, [EnterName("Zhang"), EnterPhone("no phone")], "phone_invalid"),
        (STAFF, [EnterName("Zhang"), EnterPhone("138")], "phone_invalid"),
        (
            STAFF,
            [EnterName("Zhang"), EnterPhone("13800000000"), ChooseCompound("CB-01")],
            "unknown_place",
        ),
        (RESIDENT, [EnterDescription("text where a button is expected")], "wrong_step"),
        (RESIDENT, [GoBack(Step.CATEGORY)], "wrong_step"),  # nothing before the first step
    ],
)
def test_refused_answers_keep_the_step_and_everything_entered(
    draft: ReportDraft, answers: list[Answer], outcome: str
) -> None:
    before_step, before, _ = walk(draft, *answers[:-1])
    step, after, got = walk(draft, *answers)
    assert got.value == outcome
    assert got.refused_input or got in (
        FileOutcome.UNKNOWN_CATEGORY,
        FileOutcome.UNKNOWN_PLACE,
        FileOutcome.WRONG_STEP,
    )
    assert (step, after) == (before_step, before)


def test_photos_stop_at_the_limit_can_be_cleared_and_done_moves_on() -> None:
    step, draft, _ = walk(
        RESIDENT, ChooseCategory("garbage"), EnterDescription("x"), GivePhoto("a"), GivePhoto("b")
    )
    assert (step, draft.photos) == (Step.PHOTOS, ("a", "b"))
    full = answer_step(step, draft, GivePhoto("c"), PLACES, POLICY)
    assert full.outcome is FileOutcome.TOO_MANY_PHOTOS
    assert full.draft.photos == ("a", "b")
    cleared = answer_step(step, draft, ClearPhotos(), PLACES, POLICY)
    assert (cleared.step, cleared.draft.photos) == (Step.PHOTOS, ())
    done = answer_step(step, draft, PhotosDone(), PLACES, POLICY)
    assert done.step is Step.LOCATION


def test_a_voice_note_stands_for_the_description_and_its_caption_is_the_text() -> None:
    step, draft, _ = walk(RESIDENT, ChooseCategory("noise"), GiveVoice("voice-id"))
    assert step is Step.PHOTOS
    assert draft.has_description
    assert draft.description is None
    _, captioned, _ = walk(RESIDENT, ChooseCategory("noise"), GiveVoice("v", caption=" Loud "))
    assert captioned.description == "Loud"


def test_the_me_too_step_is_asked_only_with_reports_to_offer_and_back_returns_to_it() -> None:
    offered = replace(RESIDENT, category_code="garbage", duplicate_ids=(7, 9))
    assert first_missing(offered, POLICY) is Step.DUPLICATE
    assert answer_step(Step.DUPLICATE, offered, SupportReport(7), PLACES, POLICY).outcome is (
        FileOutcome.SUPPORT
    )
    gone = answer_step(Step.DUPLICATE, offered, SupportReport(8), PLACES, POLICY)
    assert gone.outcome is FileOutcome.DUPLICATE_GONE
    anyway = answer_step(Step.DUPLICATE, offered, FileAnyway(), PLACES, POLICY)
    assert anyway.step is Step.DESCRIPTION
    assert previous_step(Step.DESCRIPTION, anyway.draft, POLICY) is Step.DUPLICATE
    assert previous_step(Step.DESCRIPTION, replace(anyway.draft, duplicate_ids=()), POLICY) is (
        Step.CATEGORY
    )
    other = answer_step(Step.CATEGORY, anyway.draft, ChooseCategory("noise"), PLACES, POLICY)
    assert (other.draft.duplicate_ids, other.draft.duplicates_answered) == ((), False)


def test_the_preview_edits_one_step_and_comes_back() -> None:
    edited = answer_step(Step.PREVIEW, FILLED, EditStep(Step.DESCRIPTION), PLACES, POLICY)
    assert edited.step is Step.DESCRIPTION
    back = answer_step(Step.DESCRIPTION, edited.draft, EnterDescription("new"), PLACES, POLICY)
    assert back.step is Step.PREVIEW
    assert back.draft.description == "new"
    assert not back.draft.editing
    refused = answer_step(Step.PREVIEW, FILLED, EditStep(Step.NAME), PLACES, POLICY)
    assert refused.outcome is FileOutcome.WRONG_STEP  # a resident's own report has no name step
    submitted = answer_step(Step.PREVIEW, FILLED, SubmitReport(), PLACES, POLICY)
    assert (submitted.outcome, submitted.step) == (FileOutcome.CONFIRMED, Step.DONE)
    gap = answer_step(Step.PREVIEW, replace(FILLED, anonymous=None), SubmitReport(), PLACES, POLICY)
    assert (gap.outcome, gap.step) == (FileOutcome.MOVED, Step.ANONYMOUS)


def test_a_draft_reads_back_what_it_wrote_and_drops_what_has_the_wrong_shape() -> None:
    assert ReportDraft.from_json(FILLED.to_json()) == FILLED
    broken = ReportDraft.from_json(
        {"photos": "p1", "latitude": 1.0, "duplicate_ids": [1, "2", True], "anonymous": "yes"}
    )
    assert broken.photos == ()
    assert (broken.latitude, broken.longitude) == (None, None)
    assert broken.duplicate_ids == (1,)
    assert broken.anonymous is None
    exported = ReportDraft.exported(FILLED.to_json())
    assert "p1" not in str(exported)
    assert exported["photos_given"] == 1


def test_a_draft_makes_a_routed_report_with_deadlines_and_the_profiles_building() -> None:
    report, routed = new_report(1, FILLED, PLACES, POLICY, NOW, 42)
    assert report.assignee == Assignee(AssigneeKind.GRID_WORKER, "HD-G1")
    assert routed.rule_index == len(POLICY.rules) - 1
    assert report.building_code == "HD-01-2"  # no pin: the profile's building says where
    assert report.submit_update_id == 42
    assert report.accept_by < report.resolve_by
    pinned, _ = new_report(1, replace(FILLED, latitude=1.0, longitude=2.0), PLACES, POLICY, NOW, 1)
    assert pinned.building_code is None
    on_behalf = replace(
        STAFF,
        reporter_name="张",
        reporter_phone="110",
        compound_code="HD-01",
        category_code="garbage",
    )
    staff_report, _ = new_report(5, replace(on_behalf, description="x"), PLACES, POLICY, NOW, 2)
    assert (staff_report.reporter.name, staff_report.reporter.filed_by) == ("张", 5)
    assert staff_report.reporter.user_id is None


def test_numbers_take_the_communitys_local_year() -> None:
    new_year_shanghai = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 January there
    assert local_year(new_year_shanghai, PLACES, "HD") == 2027


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_every_step_screen_builds_within_telegrams_limits(locale: str) -> None:
    both = replace(FILLED, filer_communities=("HD",), duplicate_ids=(1,))
    offered = [
        replace(
            report_of(FILLED),
            id=123_456_789,
            number=TrackingNumber("HD", 2026, 12),
            supports=3,
        )
    ]
    for step in Step:
        if step is Step.DONE:
            continue
        draft = STAFF if step in (Step.NAME, Step.PHONE, Step.COMPOUND) else both
        screen = step_screen(painter(locale), POLICY, step, draft, offered=offered)
        assert screen.keyboard is not None
        assert len(screen.text) < 4096


def report_of(draft: ReportDraft) -> Report:
    return new_report(1, draft, PLACES, POLICY, NOW, 1)[0]


def test_categories_come_from_config_in_the_readers_language_on_pages() -> None:
    first = step_screen(painter("en"), POLICY, Step.CATEGORY, RESIDENT)
    assert first.keyboard is not None
    labels = [b.text for row in first.keyboard.inline_keyboard for b in row]
    assert "Garbage dumping" in labels
    assert "Other" not in labels  # on the second page
    assert "1/2" in labels
    assert len([c for c in PLACES.report_categories]) > CATEGORIES_PER_PAGE
    chinese = step_screen(painter("zh_CN"), POLICY, Step.CATEGORY, RESIDENT, page=1)
    assert chinese.keyboard is not None
    assert "其他" in [b.text for row in chinese.keyboard.inline_keyboard for b in row]


@pytest.mark.parametrize(
    ("assignee", "locale", "expected"),
    [
        (Assignee(AssigneeKind.GRID_WORKER, "HD-G1"), "en", "your grid worker (河东社区第一网格)"),
        (Assignee(AssigneeKind.COMMUNITY, "HD"), "zh_CN", "河东社区"),
        (Assignee(AssigneeKind.TOWNSHIP, "YK"), "en", "Yankou Town"),
        (Assignee(AssigneeKind.DEPARTMENT, "HOUSING"), "zh_CN", "县住房和城乡建设局"),
    ],
)
def test_the_number_is_shown_with_whom_the_report_went_to(
    assignee: Assignee, locale: str, expected: str
) -> None:
    report = replace(report_of(FILLED), assignee=assignee, number=TrackingNumber("HD", 2026, 1))
    text = submitted_screen(painter(locale), report).text
    assert "HD-2026-0001" in text
    assert expected in text


def test_my_reports_lists_state_in_words_and_says_when_there_are_more() -> None:
    report = replace(report_of(FILLED), number=TrackingNumber("HD", 2026, 7))
    text = my_reports_text(painter("en"), [report], more=True)
    assert "HD-2026-0007 · Garbage dumping · waiting to be accepted" in text
    assert "Only your latest 1 reports are listed" in text
    assert "any report yet" in my_reports_text(painter("en"), [], more=False)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_every_refusal_and_press_notice_renders_with_its_limit(locale: str) -> None:
    t = CATALOGS.for_locale(locale)  # type: ignore[arg-type]
    for outcome in REFUSAL_TEXT:
        assert refusal_notice(t, POLICY, outcome, "text")
    too_long = refusal_notice(
        CATALOGS.for_locale("en"), POLICY, FileOutcome.DESCRIPTION_TOO_LONG, " " + "x" * 150
    )
    assert "at most 100 characters; yours has 150" in too_long
    for key in PRESS_NOTICES.values():
        assert t(key, number="HD-2026-0001")
    report = replace(report_of(FILLED), number=TrackingNumber("HD", 2026, 3), supports=2)
    assert "HD-2026-0003" in supported_screen(painter(locale), report).text


# -- review fixes: long previews, captions, names, the "me too" date ----------------------


def displayed(text: str) -> str:
    """What Telegram shows of an HTML message: tags gone, entities decoded."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.mark.parametrize("character", ["x", "😀"])
def test_the_preview_of_the_longest_description_config_allows_fits_one_telegram_message(
    character: str,
) -> None:
    longest = ReportsSection.model_fields["description_max_chars"].metadata
    maximum = max(m.le for m in longest if hasattr(m, "le"))
    policy = replace(POLICY, description_max_chars=maximum)
    draft = replace(
        STAFF,
        reporter_name="名" * MAX_NAME_CHARS,
        reporter_phone="+8613800000000",
        compound_code="HD-01",
        category_code="garbage",
        description="&" * 10 + character * (maximum - 10),
        photos_answered=True,
        location_answered=True,
        anonymous=False,
    )
    notice = refusal_notice(
        CATALOGS.for_locale("en"), policy, FileOutcome.DESCRIPTION_TOO_LONG, "y" * 5000
    )
    for locale in ("en", "zh_CN"):
        screen = step_screen(painter(locale), policy, Step.PREVIEW, draft, notice=notice)
        assert utf16_length(displayed(screen.text)) <= 4096
        assert "&amp;" * 10 in screen.text
        assert "…" in screen.text


def test_a_captioned_photo_at_the_description_step_keeps_the_caption_and_the_photo() -> None:
    step, draft, _ = walk(RESIDENT, ChooseCategory("garbage"))
    assert step is Step.DESCRIPTION
    moved = answer_step(step, draft, CaptionedPhoto("p1", " Crack by the door "), PLACES, POLICY)
    assert moved.outcome is FileOutcome.CAPTION_DESCRIBES
    assert (moved.step, moved.draft.description, moved.draft.photos) == (
        Step.PHOTOS,
        "Crack by the door",
        ("p1",),
    )
    too_long = answer_step(step, draft, CaptionedPhoto("p1", "x" * 101), PLACES, POLICY)
    assert (too_long.outcome, too_long.step, too_long.draft) == (
        FileOutcome.DESCRIPTION_TOO_LONG,
        Step.DESCRIPTION,
        draft,
    )


def test_a_caption_at_the_photos_step_joins_the_description_or_is_said_unused() -> None:
    step, draft, _ = walk(RESIDENT, ChooseCategory("garbage"), EnterDescription("Rubbish"))
    assert step is Step.PHOTOS
    added = answer_step(step, draft, GivePhoto("p1", "by the gate"), PLACES, POLICY)
    assert added.outcome is FileOutcome.CAPTION_ADDED
    assert (added.draft.description, added.draft.photos) == ("Rubbish\nby the gate", ("p1",))
    unused = answer_step(step, draft, GivePhoto("p2", "x" * 95), PLACES, POLICY)
    assert unused.outcome is FileOutcome.CAPTION_UNUSED
    assert (unused.draft.description, unused.draft.photos) == ("Rubbish", ("p2",))
    for outcome in (added.outcome, unused.outcome):
        assert outcome in CAPTION_NOTICES
        for locale in ("en", "zh_CN"):
            assert CATALOGS.for_locale(locale)(CAPTION_NOTICES[outcome], max=100)


def test_a_category_named_with_an_ampersand_is_escaped_once_in_html_and_plain_on_its_button() -> (
    None
):
    first = PLACES.report_categories[0]
    odd = replace(first, name="a&b", name_en="a&b <c>")
    places = replace(PLACES, report_categories=(odd, *PLACES.report_categories[1:]))
    for locale, label in (("zh_CN", "a&b"), ("en", "a&b <c>")):
        paint = Painter(CATALOGS.for_locale(locale), CODEC, places)  # type: ignore[arg-type]
        screen = step_screen(paint, POLICY, Step.CATEGORY, RESIDENT)
        assert screen.keyboard is not None
        labels = [b.text for row in screen.keyboard.inline_keyboard for b in row]
        assert label in labels
        draft = replace(FILLED, category_code=odd.code)
        preview = step_screen(paint, POLICY, Step.PREVIEW, draft).text
        assert "a&amp;b" in preview
        assert "&amp;amp;" not in preview
        listing = my_reports_text(paint, [report_of(draft)], more=False)
        assert "a&amp;b" in listing
        assert "&amp;amp;" not in listing


def test_the_me_too_offer_dates_a_report_in_its_own_communitys_time_zone() -> None:
    home = next(c for c in PLACES.communities if c.code == "HD")
    far = replace(home, timezone="America/Los_Angeles")
    places = replace(
        PLACES, communities=tuple(far if c.code == "HD" else c for c in PLACES.communities)
    )
    resident = replace(RESIDENT, home_community="ELSEWHERE", category_code="garbage")
    offered = replace(report_of(FILLED), created_at=datetime(2026, 11, 25, 2, 0, tzinfo=UTC), id=7)
    paint = Painter(CATALOGS.for_locale("en"), CODEC, places)  # type: ignore[arg-type]
    screen = step_screen(
        paint, POLICY, Step.DUPLICATE, replace(resident, duplicate_ids=(7,)), offered=[offered]
    )
    assert "Nov 24, 2026" in screen.text  # 18:00 the day before in Los Angeles
