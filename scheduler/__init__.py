"""The scheduler: APScheduler jobs that ask storage what is due and call a service.

Jobs are thin and their ids deterministic, so a restart never runs a due item
twice (spec 01 and 06, R4).
"""
