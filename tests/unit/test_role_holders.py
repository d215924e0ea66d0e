"""The in-memory set that spares ``/help`` a read of grants for people who hold none."""

from __future__ import annotations

from bot.profiles import RoleHolders


def test_before_the_load_nobody_is_surely_without_a_role() -> None:
    holders = RoleHolders()
    holders.set(7, holds=False)  # a change before the load: the database decides
    assert not holders.surely_none(7)
    assert not holders.surely_none(8)


def test_after_the_load_only_the_loaded_and_granted_are_read() -> None:
    holders = RoleHolders()
    holders.load([1, 2])
    assert not holders.surely_none(1)
    assert holders.surely_none(3)
    holders.set(3, holds=True)  # granted in this process
    holders.set(1, holds=False)  # revoked
    assert not holders.surely_none(3)
    assert holders.surely_none(1)
