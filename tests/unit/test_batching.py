"""Group commit: items finishing together share one flush; nobody returns before it."""

from __future__ import annotations

import asyncio

import pytest

from bot.batching import GroupCommit


async def test_items_added_together_are_flushed_in_one_batch_before_anyone_returns() -> None:
    batches: list[list[int]] = []
    committed: set[int] = set()

    async def flush(items: list[int]) -> None:
        await asyncio.sleep(0.01)
        batches.append(items)
        committed.update(items)

    group = GroupCommit(flush)

    async def add(item: int) -> bool:
        await group.add(item)
        return item in committed  # told only after its commit

    results = await asyncio.gather(*(add(n) for n in range(50)))

    assert all(results)
    assert batches == [list(range(50))]


async def test_items_added_during_a_flush_go_into_the_next_one() -> None:
    batches: list[list[int]] = []
    started = asyncio.Event()

    async def flush(items: list[int]) -> None:
        started.set()
        await asyncio.sleep(0.02)
        batches.append(items)

    group = GroupCommit(flush)
    first = asyncio.create_task(group.add(1))
    await started.wait()
    await group.add(2)
    await first

    assert batches == [[1], [2]]


async def test_a_failed_flush_raises_for_every_item_of_its_batch() -> None:
    async def flush(items: list[int]) -> None:
        raise RuntimeError("database gone")

    group = GroupCommit(flush)
    results = await asyncio.gather(group.add(1), group.add(2), return_exceptions=True)

    assert [str(r) for r in results] == ["database gone", "database gone"]
    with pytest.raises(RuntimeError):
        await group.add(3)
