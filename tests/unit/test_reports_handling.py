"""Who may act on a report (the agreed rule), reassign targets, and note checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.callbacks import CallbackCodec
from bot.config import load_config_file, places_from_config
from bot.i18n import Catalogs
from civic.outbox import MessageKind
from civic.places import CategoryType
from civic.reports import (
    ActorRole,
    RejectReason,
    Report,
    ReportAction,
    Reporter,
    ReportEvent,
    ReportState,
    TrackingNumber,
    decide_action,
)
from civic.reports_handling import (
    MAX_NOTE_CHARS,
    HandleOutcome,
    Refusal,
    check_note,
    may_queue,
    reassign_targets,
    refusal_of,
    role_on_report,
    roles_on_report,
)
from civic.reports_routing import Assignee, AssigneeKind
from civic.roles import Action, Actor, Grant, Position, Role, Scope, ScopeKind, may_take_somewhere
from handlers.reports_queue_views import CardPainter, OutboxNotices
from handlers.residents_views import Painter
from tests.helpers import SHIPPED_CONFIG

PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ANN, WORKER, STAFF, LIAISON, ADMIN, STRANGER = 1, 2, 3, 4, 5, 6
DEPARTMENT = PLACES.departments[0].code
OTHER_DEPARTMENT = PLACES.departments[1].code


def a_report(assignee: Assignee, **changes: object) -> Report:
    report = Report(
        community_code="HD",
        compound_code="HD-02",
        category_code="garbage",
        category_type=CategoryType.COMPLAINT,
        description="Rubbish",
        reporter=Reporter(user_id=ANN),
        assignee=assignee,
        created_at=NOW,
        accept_by=NOW + timedelta(days=1),
        resolve_by=NOW + timedelta(days=7),
        id=1,
    )
    return replace(report, **changes)  # type: ignore[arg-type]


GRID = Assignee(AssigneeKind.GRID_WORKER, "HD-G1")
COMMUNITY = Assignee(AssigneeKind.COMMUNITY, "HD")
TOWNSHIP = Assignee(AssigneeKind.TOWNSHIP, "YK")
DEPT = Assignee(AssigneeKind.DEPARTMENT, DEPARTMENT)


def grid_worker(grid: str, community: str, user_id: int = WORKER) -> Actor:
    return Actor(
        user_id, (Grant(user_id, Role.GRID_WORKER, Scope(ScopeKind.GRID, grid), community),)
    )


def staff(community: str, user_id: int = STAFF) -> Actor:
    grant = Grant(
        user_id, Role.STAFF, Scope(ScopeKind.COMMUNITY, community), community, Position.CLERK
    )
    return Actor(user_id, (grant,))


def liaison(department: str) -> Actor:
    scope = Scope(ScopeKind.DEPARTMENT, department)
    return Actor(LIAISON, (Grant(LIAISON, Role.LIAISON, scope),))


def admin(scope: Scope) -> Actor:
    return Actor(ADMIN, (Grant(ADMIN, Role.ADMIN, scope),))


@pytest.mark.parametrize(
    ("actor", "assignee", "expected"),
    [
        (grid_worker("HD-G1", "HD"), GRID, ActorRole.ASSIGNEE),
        (grid_worker("CB-G1", "CB"), GRID, None),
        (grid_worker("HD-G1", "HD"), COMMUNITY, None),
        (staff("HD"), GRID, ActorRole.STAFF),
        (staff("HD"), COMMUNITY, ActorRole.ASSIGNEE),
        (staff("HD"), TOWNSHIP, ActorRole.ASSIGNEE),
        (staff("CB"), COMMUNITY, None),
        (liaison(DEPARTMENT), DEPT, ActorRole.ASSIGNEE),
        (liaison(OTHER_DEPARTMENT), DEPT, None),
        (liaison(DEPARTMENT), GRID, None),
        (admin(Scope(ScopeKind.TOWNSHIP, "YK")), GRID, ActorRole.ASSIGNEE),
        (admin(Scope(ScopeKind.TOWNSHIP, "ELSEWHERE")), GRID, None),
        (admin(Scope.county()), DEPT, ActorRole.ASSIGNEE),
        (Actor(ANN), GRID, ActorRole.REPORTER),
        (Actor(STRANGER), GRID, None),
    ],
    ids=[
        "grid worker of the grid",
        "grid worker of another grid",
        "grid worker, community target",
        "staff of the community, grid target",
        "staff of the community, community target",
        "staff of the community, township target",
        "staff of another community",
        "liaison of the department",
        "liaison of another department",
        "liaison, grid target",
        "admin of the township",
        "admin of another township",
        "county admin",
        "the reporter",
        "a stranger",
    ],
)
def test_role_on_report(actor: Actor, assignee: Assignee, expected: ActorRole | None) -> None:
    assert role_on_report(actor, a_report(assignee), PLACES) is expected


def test_once_accepted_only_the_named_person_is_the_assignee_and_staff_stay_staff() -> None:
    taken = a_report(replace(GRID, user_id=WORKER), state=ReportState.ACCEPTED)
    colleague = grid_worker("HD-G1", "HD", user_id=99)

    assert role_on_report(grid_worker("HD-G1", "HD"), taken, PLACES) is ActorRole.ASSIGNEE
    assert role_on_report(colleague, taken, PLACES) is None
    assert role_on_report(staff("HD"), taken, PLACES) is ActorRole.STAFF


@pytest.mark.parametrize(
    ("holder", "assignee", "expected"),
    [
        (liaison(OTHER_DEPARTMENT), DEPT, None),
        (grid_worker("CB-G1", "CB", user_id=LIAISON), GRID, None),
        (staff("CB", user_id=LIAISON), DEPT, None),
        (staff("HD", user_id=LIAISON), DEPT, ActorRole.ASSIGNEE),
        (liaison(DEPARTMENT), DEPT, ActorRole.ASSIGNEE),
    ],
    ids=[
        "liaison moved to another department",
        "now a grid worker elsewhere",
        "now staff of another community",
        "staff of the report's community",
        "still the department's liaison",
    ],
)
def test_the_named_person_acts_only_while_they_still_hold_the_desk_or_staff_it(
    holder: Actor, assignee: Assignee, expected: ActorRole | None
) -> None:
    taken = a_report(replace(assignee, user_id=LIAISON), state=ReportState.ACCEPTED)

    assert role_on_report(holder, taken, PLACES) is expected


def test_staff_who_filed_on_someones_behalf_answer_for_them() -> None:
    on_behalf = a_report(
        GRID, reporter=Reporter(name="王奶奶", phone="13800000000", filed_by=STAFF)
    )

    roles = roles_on_report(staff("HD"), on_behalf, PLACES)

    assert roles == {ActorRole.STAFF, ActorRole.REPORTER}


def test_a_resident_may_not_take_a_workers_action_on_their_own_report() -> None:
    roles = roles_on_report(Actor(ANN), a_report(GRID), PLACES)

    verdict, _ = decide_action(ReportState.SUBMITTED, ReportAction.ACCEPT, roles)

    assert verdict.value == "not_yours"


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (Actor(STRANGER), Refusal.NOT_YOURS),
        (staff("CB"), Refusal.OTHER_COMMUNITY),
        (grid_worker("CB-G1", "CB"), Refusal.OTHER_COMMUNITY),
        (liaison(OTHER_DEPARTMENT), Refusal.OTHER_DESK),
        (grid_worker("HD-G1", "HD", user_id=99), Refusal.OTHER_DESK),
    ],
)
def test_refusals_say_why(actor: Actor, expected: Refusal) -> None:
    taken = a_report(replace(GRID, user_id=WORKER), state=ReportState.ACCEPTED)

    assert refusal_of(actor, taken, PLACES) is expected


def test_reassign_targets_are_the_grid_community_township_and_departments_but_the_current() -> None:
    targets = reassign_targets(a_report(GRID), PLACES)

    kinds = [(t.kind, t.code) for t in targets]
    assert (AssigneeKind.GRID_WORKER, "HD-G1") not in kinds
    assert kinds[:2] == [(AssigneeKind.COMMUNITY, "HD"), (AssigneeKind.TOWNSHIP, "YK")]
    assert {code for kind, code in kinds if kind is AssigneeKind.DEPARTMENT} == {
        d.code for d in PLACES.departments
    }


def test_notes_are_required_where_they_are_the_point_and_limited() -> None:
    assert check_note("  ", required=True) == (HandleOutcome.NOTE_EMPTY, None)
    assert check_note(None, required=False) == (None, None)
    assert check_note(" fixed ", required=True) == (None, "fixed")
    assert check_note("x" * (MAX_NOTE_CHARS + 1), required=True)[0] is HandleOutcome.NOTE_TOO_LONG


def test_residents_have_no_queue_and_liaisons_do() -> None:
    assert not may_queue(Actor(ANN), PLACES)
    assert may_queue(liaison(DEPARTMENT), PLACES)
    assert may_queue(grid_worker("HD-G1", "HD"), PLACES)


def test_the_queue_action_is_offered_to_staff_grid_workers_and_liaisons_not_residents() -> None:
    assert may_take_somewhere(liaison(DEPARTMENT), Action.HANDLE_REPORTS)
    assert may_take_somewhere(grid_worker("HD-G1", "HD"), Action.HANDLE_REPORTS)
    assert may_take_somewhere(staff("HD"), Action.HANDLE_REPORTS)
    assert not may_take_somewhere(Actor(ANN), Action.HANDLE_REPORTS)
    assert not may_take_somewhere(liaison(DEPARTMENT), Action.VERIFY_RESIDENTS)


# -- the card's screens and notices (pure builders) ---------------------------------------------

CATALOGS = Catalogs.load(strict=True)
CODEC = CallbackCodec(b"k" * 32)


def cards(locale: str = "en") -> CardPainter:
    return CardPainter(Painter(CATALOGS.for_locale(locale), CODEC, PLACES))  # type: ignore[arg-type]


def numbered(report: Report, report_id: int = 123_456_789) -> Report:
    return replace(report, id=report_id, number=TrackingNumber("HD", 2026, 9999))


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_every_card_button_fits_and_offers_only_what_is_allowed(locale: str) -> None:
    report = numbered(a_report(GRID))

    staff_card = cards(locale).card(report, {ActorRole.STAFF}, photos=2)
    worker_card = cards(locale).card(report, {ActorRole.ASSIGNEE}, photos=2)
    cards(locale).targets(report)
    cards(locale).reasons(report)
    cards(locale).note_prompt(report, ReportAction.REJECT, RejectReason.INVALID)

    assert staff_card.keyboard is not None
    assert worker_card.keyboard is not None
    staff_labels = [b.text for row in staff_card.keyboard.inline_keyboard for b in row]
    worker_labels = [b.text for row in worker_card.keyboard.inline_keyboard for b in row]
    assert len(staff_labels) == 4  # accept, reject, reassign, ask
    assert len(worker_labels) == 3  # reassign is staff's
    assert "Photos: 2" in staff_card.text or "照片：2" in staff_card.text


def test_anonymous_reporters_are_hidden_from_all_but_staff() -> None:
    report = numbered(a_report(GRID, anonymous=True))

    to_worker = cards().card(report, {ActorRole.ASSIGNEE}, photos=0).text
    to_staff = cards().card(report, {ActorRole.STAFF}, photos=0).text

    assert f"id={ANN}" not in to_worker
    assert "name hidden" in to_worker
    assert f"id={ANN}" in to_staff


def test_descriptions_are_escaped_and_cut_safely() -> None:
    report = numbered(a_report(GRID, description="<b>" + "长" * 2000))

    text = cards().card(report, {ActorRole.STAFF}, photos=0).text

    assert "&lt;b&gt;" in text
    assert text.count("长") < 700


def test_a_question_notice_has_the_answer_button_and_a_photo_goes_as_a_photo() -> None:
    report = numbered(a_report(GRID))
    notices = OutboxNotices(CATALOGS, CODEC, PLACES)
    question = ReportEvent(
        report.id or 0, ReportAction.ASK, ActorRole.ASSIGNEE, NOW, ReportState.SUBMITTED, note="?"
    )
    progress = replace(question, kind=ReportAction.PROGRESS, attachments=("file-1",))

    asked = notices.to_reporter(report, question, "en")
    shown = notices.to_reporter(report, progress, "zh_CN")

    assert asked.payload["reply_markup"]["inline_keyboard"][0][0]["text"] == "Answer"
    assert shown.kind is MessageKind.PHOTO
    assert shown.payload["photo"] == "file-1"


# -- review fixes: names in words, the card's thread, escaping once, prompts ---------------------


def test_a_late_accept_names_the_desk_in_words_or_you_never_an_id() -> None:
    taken = numbered(a_report(replace(GRID, user_id=WORKER), state=ReportState.ACCEPTED, id=1))

    to_colleague = cards().too_late(99, ReportAction.ACCEPT, taken)
    to_self = cards().too_late(WORKER, ReportAction.ACCEPT, taken)

    assert str(WORKER) not in to_colleague
    assert "grid worker of" in to_colleague
    assert "You have already accepted" in to_self
    assert cards().too_late(99, ReportAction.PROGRESS, taken).startswith("This card is out of date")


def event(kind: ReportAction | None, note: str | None = None, minutes: int = 0) -> ReportEvent:
    return ReportEvent(
        1,
        kind,
        ActorRole.ASSIGNEE,
        NOW + timedelta(minutes=minutes),
        ReportState.ACCEPTED,
        note=note,
    )


def test_the_card_shows_the_latest_events_escaped_and_cut() -> None:
    report = numbered(a_report(GRID, state=ReportState.ACCEPTED))
    events = [
        event(ReportAction.ACCEPT),
        event(ReportAction.ASK, "<b>Which gate?</b>", 1),
        event(ReportAction.ANSWER, "西" * 500, 2),
    ]

    text = cards().card(report, {ActorRole.STAFF}, photos=0, events=events).text

    assert "Latest:" in text
    assert "question: &lt;b&gt;Which gate?&lt;/b&gt;" in text
    assert 0 < text.count("西") < 250


def test_an_on_behalf_filer_answers_an_open_question_from_the_card() -> None:
    on_behalf = numbered(
        a_report(
            replace(GRID, user_id=WORKER),
            state=ReportState.ACCEPTED,
            reporter=Reporter(name="王奶奶", phone="13800000000", filed_by=STAFF),
        )
    )
    asked = [event(ReportAction.ACCEPT), event(ReportAction.ASK, "Which gate?", 1)]
    answered = [*asked, event(ReportAction.ANSWER, "West", 2)]

    def labels(roles: set[ActorRole], events: list[ReportEvent]) -> list[str]:
        keyboard = cards().card(on_behalf, roles, photos=0, events=events).keyboard
        return [b.text for row in keyboard.inline_keyboard for b in row] if keyboard else []

    assert "Answer" in labels({ActorRole.STAFF, ActorRole.REPORTER}, asked)
    assert "Answer" not in labels({ActorRole.STAFF, ActorRole.REPORTER}, answered)
    assert "Answer" not in labels({ActorRole.STAFF}, asked)


def test_names_are_escaped_once_in_html_and_plain_on_buttons() -> None:
    garbage = next(c for c in PLACES.report_categories if c.code == "garbage")
    department = PLACES.departments[0]
    places = replace(
        PLACES,
        report_categories=tuple(
            replace(c, name_en="Bins & rubbish") if c is garbage else c
            for c in PLACES.report_categories
        ),
        departments=(replace(department, name_en="Parks & <Roads>"), *PLACES.departments[1:]),
    )
    painter = CardPainter(Painter(CATALOGS.for_locale("en"), CODEC, places))  # type: ignore[arg-type]
    report = numbered(a_report(GRID))

    text = painter.card(report, {ActorRole.STAFF}, photos=0).text
    targets = painter.targets(report).keyboard
    assert targets is not None

    assert "Bins &amp; rubbish" in text
    assert "&amp;amp;" not in text
    assert "Parks & <Roads>" in [b.text for row in targets.inline_keyboard for b in row]


def test_the_photo_prompts_promise_only_what_is_kept() -> None:
    report = numbered(a_report(GRID, state=ReportState.ACCEPTED))

    for locale in ("en", "zh_CN"):
        for action in (ReportAction.PROGRESS, ReportAction.RESOLVE):
            text = cards(locale).note_prompt(report, action).text
            assert "keeps what you typed" not in text
            assert "10" in text
