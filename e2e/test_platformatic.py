"""
@platformatic/kafka 1.x (a pure JavaScript client written against Kafka
3.5-4.1) against pg_kafka: it negotiates Fetch v13+ and names topics by id
there. The node script e2e/js/platformatic.mjs prints one JSON line;
records it produces are read back from PostgreSQL, and records read by its
classic-group consumers are checked against what was produced.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Kafka, unique

JS = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def node_ready():
    if shutil.which("node") is None:
        pytest.fail("node is not installed")
    if not (JS / "node_modules" / "@platformatic" / "kafka").is_dir():
        pytest.fail("@platformatic/kafka is not installed in e2e/js (run deploy/setup.sh)")


def node(job, timeout=180):
    res = subprocess.run(["node", str(JS / "platformatic.mjs"), json.dumps(job)], cwd=JS,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    lines = res.stdout.decode().strip().splitlines()
    assert lines, "platformatic.mjs printed nothing (exit %d):\n%s" % (
        res.returncode, res.stderr.decode(errors="replace")[-4000:])
    out = json.loads(lines[-1])
    assert out["ok"], "platformatic.mjs %s failed: %s\n%s" % (
        job["action"], json.dumps(out.get("error"), indent=1),
        res.stderr.decode(errors="replace")[-4000:])
    return out["result"]


def test_platformatic_produce(kafka, pg, node_ready):
    topic = kafka.create_topic(partitions=2)
    messages = [{"key": "k%d" % i, "value": "value %d" % i, "partition": i % 2,
                 "headers": {"h": "x%d" % i}} for i in range(6)]
    node({"action": "produce", "bootstrap": kafka.bootstrap, "topic": topic,
          "messages": messages})
    rows = pg.rows("SELECT partition, \"offset\", convert_from(key, 'UTF8'),"
                   " convert_from(value, 'UTF8') FROM kafka.records WHERE topic = '%s'"
                   " ORDER BY partition, \"offset\"" % topic)
    assert [tuple(r) for r in rows] == (
        [("0", str(o), "k%d" % i, "value %d" % i) for o, i in enumerate([0, 2, 4])]
        + [("1", str(o), "k%d" % i, "value %d" % i) for o, i in enumerate([1, 3, 5])])


@pytest.mark.parametrize("members", [1, 2])
def test_platformatic_group_consume(kafka, node_ready, members):
    """A classic group reads every record where it was written; with two
    members the partitions are split between them, and every record is read
    by a member holding its partition (when a rebalance moves one, the
    records after the last commit may be read again: at least once). The
    client hands over records of a fetch sent before a rebalance even for
    partitions it gave up; the member drops those, as the Java client does."""
    topic = kafka.create_topic(partitions=4)
    count = 40
    res = node({"action": "group", "bootstrap": kafka.bootstrap, "topic": topic,
                "partitions": 4, "groupId": unique("g"), "members": members,
                "count": count})
    produced = {(p["partition"], p["offset"]) for p in res["produced"]}
    seen = []
    owned = []
    for m in res["members"]:
        assert m["partitions"], "a member of the group got no partition"
        owned += m["partitions"]
        for r in m["records"]:
            n = int(r["key"][1:])
            assert r["value"] == "v%d" % n and r["headers"] == {"n": str(n)}
            assert r["partition"] == n % 4
            seen.append((r["partition"], r["offset"], n))
    assert sorted(owned) == [0, 1, 2, 3]
    assert sorted(set(n for _, _, n in seen)) == list(range(count))
    if members == 1:
        assert len(seen) == count   # no rebalance: each record once
        assert res["members"][0]["discarded"] == 0
    # Each partition's records at offsets 0, 1, 2, ...
    for p in range(4):
        assert sorted(set(o for q, o, _ in seen if q == p)) == list(range(count // 4))
    if produced:
        assert {(q, o) for q, o, _ in seen} >= produced


def test_platformatic_admin(kafka, node_ready):
    topic = unique("adm")
    res = node({"action": "admin", "bootstrap": kafka.bootstrap, "topic": topic,
                "partitions": 3})
    assert [(t["name"], t["partitions"]) for t in res["created"]] == [(topic, 3)]
    topic_id = res["created"][0]["id"]
    assert topic_id and topic_id != "00000000-0000-0000-0000-000000000000"
    assert res["metadata"] == {"id": topic_id, "partitions": 3}
    assert res["offsets"] == {"earliest": 0, "latest": 3}
    assert res["after_delete"] is False
    assert topic not in kafka.topic_names()


def test_platformatic_kip848_group_consume(pg, make_broker, node_ready):
    """The consumer group protocol (KIP-848, groupProtocol 'consumer'): two
    members split 8 partitions 4/4, a third joins and gets its share by
    incremental revocation (no partition held by two members at once),
    then leaves and the other two take its partitions back; every record
    is read.
    Records a fetch sent before a revocation brings back for a partition
    the member gave up are dropped by the script, as the Java client drops
    them (this client would hand them over)."""
    b = make_broker(pg, "--group-consumer-heartbeat-interval-ms", "500",
                    "--group-consumer-min-heartbeat-interval-ms", "100")
    k = Kafka(b)
    try:
        topic = k.create_topic(partitions=8)
    finally:
        k.close()
    count = 90
    res = node({"action": "group848", "bootstrap": b.bootstrap, "topic": topic,
                "partitions": 8, "groupId": unique("g848"), "count": count}, timeout=300)
    first, with_third, after_leave = res["phases"]
    assert sorted(len(p) for p in first) == [4, 4]
    assert sorted(len(p) for p in with_third) == [2, 3, 3]
    assert sorted(len(p) for p in after_leave) == [4, 4]
    for phase in res["phases"]:
        assert sorted(p for ps in phase for p in ps) == list(range(8))
    assert res["overlaps"] == []
    seen = set()
    for m in res["members"]:
        for r in m["records"]:
            assert r["partition"] in r["owned"]
            n = int(r["key"][1:])
            assert r["value"] == "v%d" % n and r["partition"] == n % 8
            seen.add(n)
    # Every record read; some may be read twice when their partition moved
    # (at least once): this client starts its revocation commit and
    # acknowledges the revocation without waiting for it (the Java client
    # waits), so the commit can land after the next owner read the
    # committed offset, or be refused as STALE_MEMBER_EPOCH once the
    # acknowledgement moved the member's epoch.
    assert sorted(seen) == list(range(count)), "records missing"
