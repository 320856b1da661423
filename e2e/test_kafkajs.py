"""
KafkaJS 2.2 against pg_kafka. The node scripts in e2e/js print one JSON line;
records KafkaJS produces are read back with confluent-kafka, so the check
does not depend on KafkaJS's own consumer (which needs consumer groups).
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME

from conftest import unique

JS = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def node_ready():
    if shutil.which("node") is None:
        pytest.fail("node is not installed")
    if not (JS / "node_modules" / "kafkajs").is_dir():
        res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        if res.returncode != 0:
            pytest.fail("npm ci in e2e/js failed:\n" + res.stdout.decode(errors="replace"))


def node(script, job, timeout=120):
    res = subprocess.run(["node", str(JS / script), json.dumps(job)], cwd=JS,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    lines = res.stdout.decode().strip().splitlines()
    assert lines, "node %s printed nothing (exit %d):\n%s" % (
        script, res.returncode, res.stderr.decode(errors="replace")[-4000:])
    out = json.loads(lines[-1])
    assert out["ok"], "node %s failed: %s\n%s" % (
        script, json.dumps(out.get("error"), indent=1), res.stderr.decode(errors="replace")[-4000:])
    return out["result"]


@pytest.mark.parametrize("compression", ["none", "gzip", "snappy"])
def test_kafkajs_producer_read_back(kafka, pg, node_ready, compression):
    # Kept forever: the records are stamped 2020, which the default
    # retention.ms (7 days) of a broker's storage pass would expire.
    topic = kafka.create_topic(partitions=2, config={"retention.ms": "-1"})
    first = [
        {"key": "k1", "value": "v1", "headers": {"h": "x", "trace": "t-1"}, "partition": 0,
         "timestamp": 1_600_000_000_000},
        {"key": None, "value": "no key", "partition": 0, "timestamp": 1_600_000_000_001},
        {"key": "tombstone", "value": None, "partition": 0, "timestamp": 1_600_000_000_002},
        {"key": "other", "value": "to partition 1", "partition": 1,
         "timestamp": 1_600_000_000_003},
    ]
    second = [{"key": "b%d" % i, "value": ("second batch %d " % i) * 10, "partition": 0,
               "timestamp": 1_600_000_001_000 + i} for i in range(20)]
    result = node("produce.js", {"bootstrap": kafka.bootstrap, "topic": topic,
                                 "compression": compression, "acks": -1,
                                 "batches": [first, second]})
    base = {(m["partition"], i): int(m["baseOffset"])
            for i, send in enumerate(result) for m in send}
    assert all(m["errorCode"] == 0 for send in result for m in send)
    assert base[(0, 0)] == 0 and base[(1, 0)] == 0
    assert base[(0, 1)] == 3  # offsets continue across sends

    expected0 = [m for m in first + second if m["partition"] == 0]
    got = kafka.consume(topic, len(expected0), partitions=[0])

    def enc(s):
        return None if s is None else s.encode()

    assert [r.offset for r in got] == list(range(len(expected0)))
    assert [(r.key, r.value) for r in got] == [(enc(m["key"]), enc(m["value"])) for m in expected0]
    assert [(r.timestamp_type, r.timestamp) for r in got] == \
        [(TIMESTAMP_CREATE_TIME, m["timestamp"]) for m in expected0]
    assert got[0].headers == [("h", b"x"), ("trace", b"t-1")]

    (r1,) = kafka.consume(topic, 1, partitions=[1])
    assert (r1.key, r1.value, r1.offset) == (b"other", b"to partition 1", 0)

    rows = pg.records(topic)
    assert [(r["partition"], r["key"], r["value"]) for r in rows] == \
        [(0, enc(m["key"]), enc(m["value"])) for m in expected0] + [(1, b"other", b"to partition 1")]


def test_kafkajs_acks_zero_and_one(kafka, node_ready):
    topic = kafka.create_topic()
    batch = [{"key": "k%d" % i, "value": "v%d" % i, "partition": 0} for i in range(5)]
    node("produce.js", {"bootstrap": kafka.bootstrap, "topic": topic, "compression": "none",
                        "acks": 1, "batches": [batch]})
    node("produce.js", {"bootstrap": kafka.bootstrap, "topic": topic, "compression": "gzip",
                        "acks": 0, "batches": [batch]})
    got = kafka.consume(topic, 10)
    assert [(r.key, r.value) for r in got] == [(m["key"].encode(), m["value"].encode())
                                               for m in batch + batch]


def test_kafkajs_admin(kafka, pg, node_ready):
    name = unique("js-admin")
    dry = unique("js-dry")
    bootstrap = kafka.bootstrap
    create = {"topics": [{"topic": name, "numPartitions": 2, "replicationFactor": 1,
                          "configEntries": [{"name": "retention.ms", "value": "7200000"}]}],
              "waitForLeaders": True, "timeout": 20000}
    r = node("admin.js", {"bootstrap": bootstrap, "steps": [
        {"op": "createTopics", "args": [create]},
        {"op": "createTopics", "args": [create]},
        {"op": "createTopics", "args": [{"topics": [{"topic": dry, "numPartitions": 1,
                                                     "replicationFactor": 1}],
                                         "validateOnly": True, "waitForLeaders": False,
                                         "timeout": 20000}]},
        {"op": "listTopics"},
        {"op": "describeCluster"},
    ]})
    assert [s["ok"] for s in r] == [True] * 5, r
    assert r[0]["value"] is True
    assert r[1]["value"] is False        # already exists
    assert name in r[3]["value"]
    assert dry not in r[3]["value"]      # validateOnly created nothing
    cluster = r[4]["value"]
    assert [(b["host"], b["port"]) for b in cluster["brokers"]] == \
        [tuple([bootstrap.split(":")[0], int(bootstrap.split(":")[1])])]
    node_id = cluster["brokers"][0]["nodeId"]
    assert cluster["controller"] == node_id

    base = 1_650_000_000_000
    kafka.produce(name, [{"value": b"t%d" % i, "timestamp": base + 1000 * i, "partition": 0}
                         for i in range(5)])

    r = node("admin.js", {"bootstrap": bootstrap, "steps": [
        {"op": "fetchTopicOffsets", "args": [name]},
        {"op": "fetchTopicOffsetsByTimestamp", "args": [name, base + 1500]},
        {"op": "fetchTopicOffsetsByTimestamp", "args": [name, base]},
        {"op": "createPartitions", "args": [{"topicPartitions": [{"topic": name, "count": 4}]}]},
        {"op": "fetchTopicMetadata", "args": [{"topics": [name]}]},
        {"op": "describeConfigs", "args": [{"includeSynonyms": False, "resources": [
            {"type": "TOPIC", "name": name}]}]},
        {"op": "describeConfigs", "args": [{"includeSynonyms": False, "resources": [
            {"type": "BROKER", "name": str(node_id)}]}]},
        {"op": "deleteTopics", "args": [{"topics": [name], "timeout": 20000}]},
        {"op": "listTopics"},
    ]})
    for i, s in enumerate(r):
        assert s["ok"], "step %d: %s" % (i, s)

    offsets = {o["partition"]: o for o in r[0]["value"]}
    assert {p: (o["low"], o["high"], o["offset"]) for p, o in offsets.items()} == \
        {0: ("0", "5", "5"), 1: ("0", "0", "0")}

    by_ts = {o["partition"]: o["offset"] for o in r[1]["value"]}
    assert by_ts == {0: "2", 1: "0"}   # partition 1 is empty: KafkaJS reports its end
    by_ts = {o["partition"]: o["offset"] for o in r[2]["value"]}
    assert by_ts[0] == "0"

    assert r[3]["ok"]   # createPartitions resolves to nothing
    (t,) = r[4]["value"]["topics"]
    assert sorted(p["partitionId"] for p in t["partitions"]) == [0, 1, 2, 3]

    (res,) = r[5]["value"]["resources"]
    assert res["errorCode"] == 0 and res["resourceName"] == name
    cfg = {e["configName"]: e["configValue"] for e in res["configEntries"]}
    assert cfg["retention.ms"] == "7200000"

    (res,) = r[6]["value"]["resources"]
    assert res["errorCode"] == 0
    assert res["configEntries"], "broker resource has no configs"

    assert name not in r[8]["value"]
    assert pg.sql("SELECT count(*) FROM kafka.topics WHERE name = '%s'" % name) == "0"


def test_kafkajs_create_topic_with_broker_defaults(kafka, pg, node_ready):
    """KafkaJS sends numPartitions and replicationFactor -1 (CreateTopics v3)
    when the caller leaves them out; Kafka brokers read -1 as "the broker
    default" in every version, so this common call must work."""
    name = unique("js-defaults")
    r = node("admin.js", {"bootstrap": kafka.bootstrap, "steps": [
        {"op": "createTopics", "args": [{"topics": [{"topic": name}], "timeout": 20000}]},
    ]})
    assert r[0]["ok"] and r[0]["value"] is True, r
    assert pg.sql("SELECT partitions FROM kafka.topics WHERE name = '%s'" % name) == "1"
