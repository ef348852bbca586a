"""Topic declarations and their explicit creation (auto-created topics get the wrong partition count)."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas import Topics


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False
    single_partition: bool = False


TOPIC_SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(Topics.RAW),
    TopicSpec(Topics.SCORED),
    TopicSpec(Topics.WINDOW_DELTAS),
    TopicSpec(Topics.ALERTS),
    TopicSpec(Topics.DEADLETTER),
    TopicSpec(Topics.CAMPAIGNS, compacted=True, single_partition=True),
    TopicSpec(Topics.PREDICTIONS),
    TopicSpec(Topics.OPS_ALERTS, single_partition=True),
)


async def ensure_topics(bootstrap_servers: str, partitions: int, app_id: str = "truevoice") -> list[str]:
    """Create the TrueVoice topics (and Faust's table changelog) that do not exist yet; return the created ones."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id=f"{app_id}-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                spec.name,
                num_partitions=1 if spec.single_partition else partitions,
                replication_factor=1,
                topic_configs={"cleanup.policy": "compact"} if spec.compacted else {},
            )
            for spec in TOPIC_SPECS
        ]
        wanted.append(NewTopic(changelog_topic(app_id), num_partitions=partitions, replication_factor=1,
                               topic_configs={"cleanup.policy": "compact"}))
        missing = [t for t in wanted if t.name not in existing]
        for topic in missing:
            try:
                await admin.create_topics([topic])
            except TopicAlreadyExistsError:
                pass
        return [t.name for t in missing]
    finally:
        await admin.close()


async def describe_topics(bootstrap_servers: str) -> dict[str, int]:
    """Topic name → partition count, as the broker reports them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        names = sorted(await admin.list_topics())
        described = await admin.describe_topics(names)
        return {d["topic"]: len(d["partitions"]) for d in described}
    finally:
        await admin.close()


def changelog_topic(app_id: str) -> str:
    return f"{app_id}-windows-changelog"
