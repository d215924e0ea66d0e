"""Turn the configuration's report settings into domain values (:mod:`civic.reports_routing`,
:mod:`civic.reports_deadlines`)."""

from __future__ import annotations

from bot.config.models import AppConfig
from bot.config.places import holiday_rules_from_config
from civic.reports_deadlines import CategoryDeadlines, DeadlinePolicy
from civic.reports_routing import RoutingRule
from civic.workdays import WorkingCalendar


def routing_rules_from_config(config: AppConfig) -> tuple[RoutingRule, ...]:
    """The ``[[routing]]`` rows in file order: the first match wins."""
    return tuple(
        RoutingRule.from_config(r.category, r.assign_to, r.property_manager) for r in config.routing
    )


def deadline_policy_from_config(config: AppConfig) -> DeadlinePolicy:
    """``[reports]`` periods, overridden per category where ``[[report_categories]]`` says so."""
    default = CategoryDeadlines(
        config.reports.accept_working_days, config.reports.resolve_working_days
    )
    overrides = {
        c.code: CategoryDeadlines(
            default.accept_working_days if c.accept_working_days is None else c.accept_working_days,
            default.resolve_working_days
            if c.resolve_working_days is None
            else c.resolve_working_days,
        )
        for c in config.report_categories
        if c.accept_working_days is not None or c.resolve_working_days is not None
    }
    return DeadlinePolicy(default, overrides)


_CALENDARS: dict[int, tuple[AppConfig, WorkingCalendar]] = {}


def working_calendar_from_config(config: AppConfig) -> WorkingCalendar:
    """The ``[[holidays]]`` working calendar, built once per configuration object.

    The calendar indexes every holiday and make-up working day, so filing and
    handling share this one cache instead of each building their own. The entry
    keeps ``config`` itself so a recycled ``id()`` can never return another's calendar.
    """
    cached = _CALENDARS.get(id(config))
    if cached is None or cached[0] is not config:
        calendar = WorkingCalendar(holiday_rules_from_config(config))
        cached = _CALENDARS[id(config)] = (config, calendar)
    return cached[1]
