"""'Is it fixed?': the pure decisions (which resolution stands, who may answer, when it
expires) and what the reporter and the worker are shown."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import CallbackCodec, Decoded
from bot.config import load_config_file, places_from_config
from bot.i18n import Catalogs
from civic.flows import Flow
from civic.places import CategoryType
from civic.reports import (
    ActorRole,
    Report,
    ReportAction,
    Reporter,
    ReportEvent,
    ReportState,
    TrackingNumber,
)
from civic.reports_expiry import expire_job_key
from civic.reports_feedback import (
    CommentKind,
    FeedbackDraft,
    FeedbackOutcome,
    decide_answer,
    latest_resolution,
)
from civic.reports_routing import Assignee, AssigneeKind
from handlers.reports_feedback_views import (
    ASK,
    SKIP,
    FeedbackNotices,
    ask_keyboard,
    comment_prompt,
    fixed_answer,
    question,
    rating_prompt,
)
from handlers.reports_queue_views import CardPainter, OutboxNotices, fixed_awaited
from handlers.residents_views import Painter
from tests.helpers import SHIPPED_CONFIG

PLACES = places_from_config(load_config_file(SHIPPED_CONFIG))
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ANN, WORKER, STAFF = 1, 2, 3
GRID = Assignee(AssigneeKind.GRID_WORKER, "HD-G1", WORKER)
CATALOGS = Catalogs.load(strict=True)
CODEC = CallbackCodec(b"k" * 32)
REPORTER = frozenset({ActorRole.REPORTER})


def a_report(**changes: object) -> Report:
    report = Report(
        community_code="HD",
        compound_code="HD-02",
        category_code="garbage",
        category_type=CategoryType.COMPLAINT,
        description="Rubbish",
        reporter=Reporter(user_id=ANN),
        assignee=GRID,
        created_at=NOW,
        accept_by=NOW + timedelta(days=1),
        resolve_by=NOW + timedelta(days=7),
        state=ReportState.RESOLVED,
        id=123_456_789,
        number=TrackingNumber("HD", 2026, 9999),
    )
    return replace(report, **changes)  # type: ignore[arg-type]


def event(kind: ReportAction | None, event_id: int, note: str | None = None) -> ReportEvent:
    return ReportEvent(
        123_456_789,
        kind,
        ActorRole.ASSIGNEE,
        NOW + timedelta(seconds=event_id % 100_000),
        ReportState.RESOLVED,
        note=note,
        id=event_id,
    )


HISTORY = [
    event(None, 1),
    event(ReportAction.RESOLVE, 2),
    event(ReportAction.REOPEN, 3),
    event(ReportAction.RESOLVE, 4),
    event(ReportAction.ANSWER, 5),
]


def cards(locale: str = "en") -> CardPainter:
    return CardPainter(Painter(CATALOGS.for_locale(locale), CODEC, PLACES))  # type: ignore[arg-type]


# -- which resolution stands, who answers --------------------------------------------------------


def test_the_standing_resolution_is_the_last_resolve_event() -> None:
    assert latest_resolution(HISTORY) == HISTORY[3]
    assert latest_resolution(HISTORY[:1]) is None


@pytest.mark.parametrize("action", [ReportAction.CONFIRM, ReportAction.REOPEN])
def test_the_reporter_answers_the_standing_resolution_only(action: ReportAction) -> None:
    report = a_report()

    assert decide_answer(report, HISTORY, 4, REPORTER, action) is None
    assert decide_answer(report, HISTORY, 2, REPORTER, action) is FeedbackOutcome.STALE
    assert decide_answer(report, HISTORY, 4, frozenset({ActorRole.STAFF}), action) is (
        FeedbackOutcome.REFUSED
    )


@pytest.mark.parametrize("state", [s for s in ReportState if s is not ReportState.RESOLVED])
def test_a_report_not_resolved_has_nothing_to_answer_whoever_asks(state: ReportState) -> None:
    report = a_report(state=state)

    for roles in (REPORTER, frozenset({ActorRole.STAFF})):
        assert decide_answer(report, HISTORY, 4, roles, ReportAction.CONFIRM) is (
            FeedbackOutcome.STALE
        )


def test_only_confirm_and_reopen_answer() -> None:
    with pytest.raises(ValueError, match="Is it fixed"):
        decide_answer(a_report(), HISTORY, 4, REPORTER, ReportAction.ACCEPT)


id_pairs = st.tuples(st.integers(1, 2**40), st.integers(1, 2**40))


@given(id_pairs, id_pairs)
def test_two_resolutions_never_share_an_expiry_job(a: tuple[int, int], b: tuple[int, int]) -> None:
    # One job per (report, resolve event): "1:23" and "12:3" must not be the same key.
    assert (expire_job_key(*a) == expire_job_key(*b)) == (a == b)


def flow_with(draft: dict[str, object]) -> Flow:
    return Flow(
        user_id=ANN,
        name="reports.feedback",
        step="wrong",
        draft=draft,
        active=True,
        message_id=None,
        last_update_id=1,
        updated_at=NOW,
    )


def test_the_comment_draft_reads_back_and_refuses_what_it_did_not_write() -> None:
    draft = FeedbackDraft(5, 9, CommentKind.WRONG)

    assert FeedbackDraft.of(flow_with(draft.data())) == draft
    assert FeedbackDraft.of(flow_with({**draft.data(), "report_id": True})) is None
    assert FeedbackDraft.of(flow_with({**draft.data(), "resolve_event_id": "9"})) is None
    assert FeedbackDraft.of(flow_with({**draft.data(), "kind": "other"})) is None


# -- what is shown -------------------------------------------------------------------------------


def buttons(markup: dict[str, object] | None) -> list[dict[str, str]]:
    assert markup is not None
    return [b for row in markup["inline_keyboard"] for b in row]  # type: ignore[attr-defined]


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_resolution_notice_asks_is_it_fixed_with_buttons_that_fit(locale: str) -> None:
    notices = OutboxNotices(CATALOGS, CODEC, PLACES)
    resolved = replace(event(ReportAction.RESOLVE, 2**40, note="Cleared"), attachments=("f",))

    message = notices.to_reporter(a_report(), resolved, locale)

    pressed = buttons(message.payload["reply_markup"])  # type: ignore[arg-type]
    assert len(pressed) == 2
    assert all(len(b["callback_data"].encode()) <= 64 for b in pressed)
    question = "Is it fixed?" if locale == "en" else "问题解决了吗？"
    assert str(message.payload["caption"]).endswith(question)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_rating_buttons_fit_and_the_prompts_offer_skip(locale: str) -> None:
    report = a_report(state=ReportState.CLOSED)

    rating = rating_prompt(cards(locale), report, 2**40)
    wrong = comment_prompt(cards(locale), report, 2**40, CommentKind.WRONG)
    fixed = comment_prompt(cards(locale), report, 2**40, CommentKind.FIXED, 4)

    assert rating.keyboard is not None
    row = rating.keyboard.inline_keyboard[0]
    assert [b.text for b in row] == [f"{n} ★" for n in range(1, 6)]
    assert all(len(str(b.callback_data).encode()) <= 64 for b in row)
    assert "HD-2026-9999" in wrong.text
    assert "4" in fixed.text
    for screen in (wrong, fixed):
        assert screen.keyboard is not None
        [skip] = screen.keyboard.inline_keyboard[0]
        assert len(str(skip.callback_data).encode()) <= 64
        decoded = CODEC.decode(str(skip.callback_data))
        assert isinstance(decoded, Decoded)
        # Skip names the report and the resolution it ends the comment of.
        assert (decoded.action, decoded.args) == (SKIP, (str(report.id), str(2**40)))


@given(st.lists(st.text(max_size=3), max_size=4))
def test_only_an_exact_y_or_n_answers_is_it_fixed(args: list[str]) -> None:
    answer = fixed_answer(args)

    if len(args) == 3 and args[2] in ("y", "n"):
        assert answer is (args[2] == "y")
    else:
        assert answer is None  # a malformed value is never taken for "No"


def test_the_yes_and_no_buttons_carry_y_and_n() -> None:
    labels = {"✅ Yes, it is fixed": True, "❌ No, not fixed": False}
    for button in cards().fixed_row(5, 9):
        decoded = CODEC.decode(str(button.callback_data))
        assert isinstance(decoded, Decoded)
        assert fixed_answer(decoded.args) is labels[button.text]


def test_myreports_offers_is_it_fixed_for_resolved_reports_only() -> None:
    painter = Painter(CATALOGS.for_locale("en"), CODEC, PLACES)  # type: ignore[arg-type]
    resolved = a_report()
    others = [
        a_report(state=state, id=7, number=TrackingNumber("HD", 2026, 7))
        for state in ReportState
        if state is not ReportState.RESOLVED
    ]

    keyboard = ask_keyboard(painter, [*others, resolved])

    assert keyboard is not None
    [[button]] = keyboard.inline_keyboard
    assert button.text == "Is it fixed? HD-2026-9999"
    decoded = CODEC.decode(str(button.callback_data))
    assert isinstance(decoded, Decoded)
    assert (decoded.action, decoded.args) == (ASK, (str(resolved.id),))
    assert ask_keyboard(painter, others) is None


def test_asked_again_the_question_names_the_report_with_yes_and_no() -> None:
    screen = question(cards("zh_CN"), a_report(), 2**40)

    assert "HD-2026-9999" in screen.text
    assert screen.keyboard is not None
    assert [b.text for b in screen.keyboard.inline_keyboard[0]] == ["✅ 已解决", "❌ 没有解决"]


def test_an_on_behalf_filer_sees_fixed_yes_no_on_the_card_while_resolved() -> None:
    on_behalf = a_report(reporter=Reporter(name="王奶奶", phone="13800000000", filed_by=STAFF))
    filer = frozenset({ActorRole.STAFF, ActorRole.REPORTER})

    assert fixed_awaited(on_behalf, filer, HISTORY) == 4
    assert fixed_awaited(on_behalf, frozenset({ActorRole.STAFF}), HISTORY) is None
    assert fixed_awaited(a_report(), REPORTER, HISTORY) is None  # they have the notice
    assert fixed_awaited(replace(on_behalf, state=ReportState.CLOSED), filer, HISTORY) is None

    card = cards().card(on_behalf, filer, photos=0, events=HISTORY)
    assert card.keyboard is not None
    labels = [b.text for row in card.keyboard.inline_keyboard for b in row]
    assert labels[-2:] == ["✅ Yes, it is fixed", "❌ No, not fixed"]


def test_the_worker_is_told_of_a_reopening_and_of_what_is_still_wrong() -> None:
    notices = FeedbackNotices(OutboxNotices(CATALOGS, CODEC, PLACES))
    report = a_report(state=ReportState.REOPENED)

    reopened = notices.to_worker(report, event(ReportAction.REOPEN, 3), WORKER, "en")
    wrong = notices.to_worker(report, event(ReportAction.ANSWER, 5, "<still> there"), WORKER, "en")

    assert "is not fixed" in str(reopened.payload["text"])
    assert "&lt;still&gt; there" in str(wrong.payload["text"])
    for message in (reopened, wrong):
        assert [b["text"] for b in buttons(message.payload["reply_markup"])] == [  # type: ignore[arg-type]
            "Open the card"
        ]


def test_the_reporter_is_told_of_the_expiry_without_buttons() -> None:
    notices = FeedbackNotices(OutboxNotices(CATALOGS, CODEC, PLACES))

    message = notices.to_reporter(
        a_report(state=ReportState.CLOSED), event(ReportAction.EXPIRE, 6), "zh_CN"
    )

    assert "已按已解决办结" in str(message.payload["text"])
    assert "reply_markup" not in message.payload


def test_an_on_behalf_filer_is_asked_is_it_fixed_with_the_residents_name() -> None:
    notices = OutboxNotices(CATALOGS, CODEC, PLACES)
    on_behalf = a_report(reporter=Reporter(name="<王奶奶>", phone="13800000000", filed_by=STAFF))

    message = notices.to_worker(on_behalf, event(ReportAction.RESOLVE, 4, "Cleared"), STAFF, "en")

    assert "&lt;王奶奶&gt; (13800000000)" in str(message.payload["text"])
    labels = [b["text"] for b in buttons(message.payload["reply_markup"])]  # type: ignore[arg-type]
    assert labels == ["✅ Yes, it is fixed", "❌ No, not fixed", "Open the card"]
