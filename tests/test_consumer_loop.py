"""The retry policy and the batch plans of ConsumerLoop, without a broker."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import ConsumerRecord

from agents.consumer_loop import ConsumerLoop, RetryPolicy, format_plan, parse_plan
from schemas.errors import PermanentError, StorageUnavailableError


def run(coro):
    return asyncio.run(coro)


def test_retry_policy_retries_retriable_errors_with_a_capped_backoff():
    async def go():
        policy = RetryPolicy("t", initial=0.001, cap=0.004, factor=2.0)
        calls = []

        async def flaky():
            calls.append(1)
            if len(calls) < 5:
                raise StorageUnavailableError(f"disk full #{len(calls)}")
            return "ok"

        assert await policy.run(flaky, "insert") == "ok"
        assert policy.failures == 4 and not policy.failing
        assert policy.last_error == "insert: StorageUnavailableError: disk full #4"  # kept after success
        delays = policy.delays()
        assert [next(delays) for _ in range(5)] == [0.001, 0.002, 0.004, 0.004, 0.004]

    run(go())


def test_retry_policy_raises_permanent_errors_at_once():
    async def go():
        policy = RetryPolicy("t", initial=0.001)

        async def bad():
            raise PermanentError("never")

        with pytest.raises(PermanentError):
            await policy.run(bad, "x")
        assert policy.failures == 0

    run(go())


def test_retry_policy_stops_on_shutdown():
    async def go():
        stopping = asyncio.Event()
        policy = RetryPolicy("t", initial=10.0, stopping=stopping)

        async def down():
            raise ConnectionError("down")

        task = asyncio.create_task(policy.run(down, "send"))
        while policy.failures == 0:
            await asyncio.sleep(0)
        stopping.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 2)
        assert policy.failing and "ConnectionError: down" in policy.last_error

    run(go())


def test_plans_round_trip_through_commit_metadata():
    assert parse_plan(format_plan([300, 120, 300])) == [120, 300]
    assert format_plan([]) == "" and parse_plan("") == [] and parse_plan(None) == [] and parse_plan("other") == []


def record(partition: int, offset: int, value: bytes = b"v", topic: str = "t") -> ConsumerRecord:
    return ConsumerRecord(topic, partition, offset, 0, 0, None, value, None, 0, len(value), [])


def test_a_permanent_failure_is_isolated_and_dead_lettered_and_the_rest_goes_on():
    async def go():
        handled, letters = [], []

        async def handler(records):
            if any(r.value == b"poison" for r in records):
                raise PermanentError("cannot handle poison")
            handled.extend(r.offset for r in records)

        async def dead_letter(records, exc):
            letters.extend((r.topic, r.partition, r.offset, str(exc)) for r in records)

        loop = ConsumerLoop("t", "127.0.0.1:1", ["t"], "g", handler, dead_letter=dead_letter)
        batch = [record(0, i, b"poison" if i == 5 else b"ok") for i in range(10)]
        await loop._handle_until_done(batch)
        assert sorted(handled) == [0, 1, 2, 3, 4, 6, 7, 8, 9]
        assert letters == [("t", 0, 5, "cannot handle poison")]
        assert loop.dead_lettered == 1 and loop.failures == 0
        await loop.consumer.stop()

    run(go())


def test_retriable_failures_retry_the_batch():
    async def go():
        tries = []

        async def handler(records):
            tries.append(len(records))
            if len(tries) < 3:
                raise StorageUnavailableError("down")

        loop = ConsumerLoop("t", "127.0.0.1:1", ["t"], "g", handler)
        loop.retry.initial = 0.001
        await loop._handle_until_done([record(0, 1), record(0, 2)])
        assert tries == [2, 2, 2] and loop.failures == 2 and loop.last_error is None
        await loop.consumer.stop()

    run(go())


def test_cuts_end_a_partition_at_its_planned_end():
    async def go():
        loop = ConsumerLoop("t", "127.0.0.1:1", ["t"], "g", lambda r: None, plan_topics=["t"])
        from aiokafka import TopicPartition
        tp = TopicPartition("t", 0)
        loop._cuts[tp] = [5, 9]
        part = [record(0, i) for i in range(3)]
        assert loop._cut(tp, part) == (part, False)  # before the cut: all of it
        assert loop._outstanding(tp, 3) == [5, 9]
        # the batch [3, 5) closes at the first cut; the rest would be fetched again
        kept, reached = loop._cut(tp, [record(0, i) for i in range(3, 5)])
        assert [r.offset for r in kept] == [3, 4] and reached and loop._cuts[tp] == [9]
        assert loop._outstanding(tp, 5) == [9]
        await loop.consumer.stop()

    run(go())
