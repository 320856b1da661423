"""
Every API key the broker advertises, with the raw protocol (kmsg.py, built
from Kafka's message definitions): each answers a well-formed request at
its lowest and highest advertised version and keeps the connection; keys
Kafka 4.x does not serve on a broker listener are neither advertised nor
answered; and each cluster, replica, quota, token and feature API gives
what Kafka gives for pg_kafka's one-broker cluster. ApiVersions v3+
reports feature levels as Kafka 4.x does.
"""

import pytest

import kafkaproto as kp
import kmsg
from kmsg import call

NODE_ID = 1  # the broker fixture's node.id (the default)

# Error codes, as Kafka names them.
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
REPLICA_NOT_AVAILABLE = 9
INVALID_TOPIC_EXCEPTION = 17
CLUSTER_AUTHORIZATION_FAILED = 31
UNSUPPORTED_VERSION = 35
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_REQUEST = 42
POLICY_VIOLATION = 44
LOG_DIR_NOT_FOUND = 57
DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64
FENCED_LEADER_EPOCH = 74
UNKNOWN_LEADER_EPOCH = 75
ELECTION_NOT_NEEDED = 84
NO_REASSIGNMENT_IN_PROGRESS = 85
INVALID_UPDATE_VERSION = 95
MISMATCHED_ENDPOINT_TYPE = 114
UNSUPPORTED_ENDPOINT_TYPE = 115

# API keys Kafka 4.x serves only on a controller listener (or, for
# UnregisterBroker, DescribeQuorum and the Raft voter APIs, only with a
# KRaft quorum behind the broker), the share-group APIs (preview, off by
# default), and the telemetry APIs (advertised only with a telemetry
# receiver): none is advertised, and a request for one closes the
# connection as Kafka closes it for a disabled API.
NOT_SERVED = [4, 5, 6, 7, 52, 53, 54, 55, 56, 58, 59, 62, 63, 64, 67, 70, 71, 72, 73,
              76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92]


def advertised(broker):
    with kp.Conn.to(broker.bootstrap) as c:
        err, apis = kp.api_versions(c, 0)
    assert err == 0
    return apis


def conn(broker):
    return kp.Conn.to(broker.bootstrap)


# ---- every advertised key ----------------------------------------------

def test_every_advertised_key_answers_at_min_and_max_version(broker):
    """A well-formed request (every field at its default: empty lists,
    empty names) to each advertised key at its lowest and highest version
    gets an answer with its correlation id, and the connection stays."""
    apis = advertised(broker)
    described = set(kmsg.APIS) | set(kmsg.REQUESTS)
    assert not set(apis) - described, "advertised keys without a request spec: %s" % (
        sorted(set(apis) - described))
    for key, (lo, hi) in sorted(apis.items()):
        with conn(broker) as c:
            for v in sorted({lo, hi}):
                try:
                    kmsg.send_request(c, key, v)
                except Exception as e:  # name the key and version
                    raise AssertionError("key %d v%d: %s" % (key, v, e))
            err, _ = kp.api_versions(c, 0)
            assert err == 0


def test_every_new_key_decodes_at_min_and_max_version(broker):
    apis = advertised(broker)
    checked = 0
    for key, a in sorted(kmsg.APIS.items()):
        assert key in apis, "%s (%d) not advertised" % (a.name, key)
        lo, hi = apis[key]
        with conn(broker) as c:
            for v in sorted({lo, hi}):
                call(c, key, v)
                checked += 1
            # The connection is still usable.
            err, _ = kp.api_versions(c, 0)
            assert err == 0
    assert checked >= 2 * len(kmsg.APIS) - 6


@pytest.mark.parametrize("key", NOT_SERVED)
def test_key_kafka_does_not_serve_on_a_broker_is_refused(broker, key):
    assert key not in advertised(broker)
    with conn(broker) as c:
        c.send(key, 0, b"\x00" * 8, header_version=2)
        assert c.wait_closed(), "key %d answered instead of closing" % key
    with conn(broker) as c:  # and the broker serves the next client
        assert kp.api_versions(c, 0)[0] == 0


# ---- ApiVersions features ----------------------------------------------

def features(broker, v):
    with conn(broker) as c:
        return call(c, 18, v)


def test_api_versions_v4_lists_supported_and_finalized_features(broker):
    r = features(broker, 4)
    assert r["error_code"] == NONE
    sup = {f["name"]: (f["min_version"], f["max_version"]) for f in r["supported_features"]}
    assert sup == {"metadata.version": (21, 21), "transaction.version": (0, 2),
                   "group.version": (0, 1)}
    # Kafka lists only finalized levels above 0; transactions v2 and the
    # consumer group protocol (KIP-848) are in force.
    fin = {f["name"]: (f["min_version_level"], f["max_version_level"])
           for f in r["finalized_features"]}
    assert fin == {"metadata.version": (21, 21), "transaction.version": (2, 2),
                   "group.version": (1, 1)}
    assert r["finalized_features_epoch"] >= 0


def test_api_versions_v3_omits_features_whose_minimum_is_zero(broker):
    # KAFKA-17492: clients before v4 cannot read a minimum of 0.
    r = features(broker, 3)
    assert [f["name"] for f in r["supported_features"]] == ["metadata.version"]
    assert [f["name"] for f in r["finalized_features"]] == ["metadata.version",
                                                             "transaction.version",
                                                             "group.version"]


@pytest.mark.parametrize("key,v", [(23, 1), (34, 0), (35, 0), (38, 0), (39, 0), (40, 0), (41, 0)])
def test_versions_kafka_4_dropped_are_refused(broker, key, v):
    # KIP-896: Kafka 4.0 no longer serves these versions.
    with conn(broker) as c:
        c.send(key, v, b"\x00" * 8)
        assert c.wait_closed()


def test_api_versions_v5_gets_the_v0_fallback(broker):
    with conn(broker) as c:
        r = c.request(18, 5, b"", header_version=2)
        err, apis = r.i16(), r.array(lambda rr: (rr.i16(), rr.i16(), rr.i16()))
    assert err == UNSUPPORTED_VERSION
    assert (18, 0, 4) in apis


# ---- DescribeCluster ---------------------------------------------------

@pytest.mark.parametrize("v", [0, 1, 2])
def test_describe_cluster(broker, v):
    with conn(broker) as c:
        r = call(c, 60, v, {"include_cluster_authorized_operations": True,
                            "include_fenced_brokers": True})
    host, port = broker.bootstrap.rsplit(":", 1)
    assert r["error_code"] == NONE
    assert r["cluster_id"]
    assert r["controller_id"] == NODE_ID
    assert [(b["broker_id"], b["port"], b["rack"]) for b in r["brokers"]] == \
        [(NODE_ID, int(port), None)]
    # What Metadata reports without an authorizer: every cluster operation.
    assert r["cluster_authorized_operations"] > 0
    if v >= 1:
        assert r["endpoint_type"] == 1
    assert r["brokers"][0]["is_fenced"] is False


def test_describe_cluster_endpoint_types(broker):
    with conn(broker) as c:
        ctrl = call(c, 60, 1, {"endpoint_type": 2})
        bad = call(c, 60, 1, {"endpoint_type": 7})
        none = call(c, 60, 1, {})
    assert ctrl["error_code"] == MISMATCHED_ENDPOINT_TYPE and ctrl["brokers"] == []
    assert bad["error_code"] == UNSUPPORTED_ENDPOINT_TYPE
    assert none["cluster_authorized_operations"] == -2147483648


# ---- DescribeTopicPartitions -------------------------------------------

def dtp(c, **values):
    return call(c, 75, 0, values)


def test_describe_topic_partitions_pages_with_a_cursor(broker, kafka):
    a = kafka.create_topic(kafka.new_topic_name("dtpa"), partitions=3)
    b = kafka.create_topic(kafka.new_topic_name("dtpb"), partitions=2)
    missing = "zz-missing-" + a
    names = [{"name": n} for n in (b, missing, a)]
    with conn(broker) as c:
        r = dtp(c, topics=names, response_partition_limit=2)
        got = [(t["name"], [p["partition_index"] for p in t["partitions"]]) for t in r["topics"]]
        assert got == [(a, [0, 1])]
        assert r["next_cursor"] == {"topic_name": a, "partition_index": 2}
        r = dtp(c, topics=names, response_partition_limit=2, cursor=r["next_cursor"])
        got = [(t["name"], [p["partition_index"] for p in t["partitions"]], t["error_code"])
               for t in r["topics"]]
        # a's last partition, then b (sorted by name), stopping when the
        # budget is spent: the cursor points at the start of the next topic.
        assert got == [(a, [2], NONE), (b, [0], NONE)]
        assert r["next_cursor"] == {"topic_name": b, "partition_index": 1}
        r = dtp(c, topics=names, cursor=r["next_cursor"])
        got = [(t["name"], t["error_code"]) for t in r["topics"]]
        assert got == [(b, NONE), (missing, UNKNOWN_TOPIC_OR_PARTITION)]
        assert r["next_cursor"] is None
        p = r["topics"][0]["partitions"][0]
        assert (p["leader_id"], p["leader_epoch"], p["replica_nodes"], p["isr_nodes"],
                p["eligible_leader_replicas"], p["offline_replicas"]) == \
            (NODE_ID, 0, [NODE_ID], [NODE_ID], [], [])
        assert r["topics"][0]["topic_id"] != bytes(16)


def test_describe_topic_partitions_all_topics_and_bad_cursor(broker, kafka):
    t = kafka.create_topic(kafka.new_topic_name("dtpall"), partitions=1)
    with conn(broker) as c:
        r = dtp(c)
        assert t in [x["name"] for x in r["topics"]]
        assert all(x["error_code"] == NONE for x in r["topics"])
        # The cursor must name a listed topic and a real partition index.
        r = dtp(c, topics=[{"name": t}], cursor={"topic_name": "other", "partition_index": 0})
        assert [x["error_code"] for x in r["topics"]] == [INVALID_REQUEST]
        r = dtp(c, topics=[{"name": t}], cursor={"topic_name": t, "partition_index": -1})
        assert [x["error_code"] for x in r["topics"]] == [INVALID_REQUEST]


# ---- ElectLeaders, reassignments, log dirs ------------------------------

def test_elect_leaders(broker, kafka):
    t = kafka.create_topic(kafka.new_topic_name("elect"), partitions=2)
    with conn(broker) as c:
        for v in (0, 1, 2):
            r = call(c, 43, v, {"topic_partitions": [{"topic": t, "partitions": [0, 1, 5]}]})
            res = r["replica_election_results"]
            assert [x["topic"] for x in res] == [t]
            assert [(p["partition_id"], p["error_code"]) for p in res[0]["partition_result"]] \
                == [(0, ELECTION_NOT_NEEDED), (1, ELECTION_NOT_NEEDED),
                    (5, UNKNOWN_TOPIC_OR_PARTITION)]
        # Every partition: each topic listed, none needing an election.
        r = call(c, 43, 2, {"topic_partitions": None, "election_type": 1})
        mine = [x for x in r["replica_election_results"] if x["topic"] == t]
        assert mine == [{"topic": t, "partition_result": []}]
        r = call(c, 43, 2, {"topic_partitions": [{"topic": t, "partitions": [0]}],
                            "election_type": 9})
        assert r["error_code"] == INVALID_REQUEST


def test_alter_and_list_partition_reassignments(broker, kafka):
    t = kafka.create_topic(kafka.new_topic_name("reassign"), partitions=1)
    parts = [{"partition_index": 0, "replicas": [NODE_ID]},
             {"partition_index": 0, "replicas": [NODE_ID, 2]},
             {"partition_index": 0, "replicas": [NODE_ID, NODE_ID]},
             {"partition_index": 0, "replicas": []},
             {"partition_index": 0, "replicas": None},
             {"partition_index": 3, "replicas": [NODE_ID]}]
    with conn(broker) as c:
        r = call(c, 45, 0, {"topics": [{"name": t, "partitions": parts}]})
        assert r["error_code"] == NONE
        got = [p["error_code"] for p in r["responses"][0]["partitions"]]
        assert got == [NONE, INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICA_ASSIGNMENT,
                       INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS,
                       UNKNOWN_TOPIC_OR_PARTITION]
        assert "broker 2" in r["responses"][0]["partitions"][1]["error_message"]
        for topics in (None, [{"name": t, "partition_indexes": [0]}]):
            r = call(c, 46, 0, {"topics": topics})
            assert (r["error_code"], r["topics"]) == (NONE, [])


def test_describe_log_dirs_and_alter_replica_log_dirs(broker, kafka):
    t = kafka.create_topic(kafka.new_topic_name("logdirs"), partitions=2)
    kafka.produce(t, [(None, b"x" * 1000)] * 20)
    with conn(broker) as c:
        r = call(c, 35, 4, {"topics": [{"topic": t, "partitions": [0, 1, 7]}]})
        assert r["error_code"] == NONE
        (d,) = r["results"]
        assert d["error_code"] == NONE and d["log_dir"] == "pg_kafka"
        assert (d["total_bytes"], d["usable_bytes"]) == (-1, -1)
        (topic,) = d["topics"]
        sizes = {p["partition_index"]: p["partition_size"] for p in topic["partitions"]}
        assert sorted(sizes) == [0, 1]
        assert sizes[0] + sizes[1] > 0
        r = call(c, 35, 1, {"topics": None})
        assert t in [x["name"] for x in r["results"][0]["topics"]]

        r = call(c, 34, 2, {"dirs": [
            {"path": "pg_kafka", "topics": [{"name": t, "partitions": [0, 9]}]},
            {"path": "/var/lib/kafka", "topics": [{"name": t, "partitions": [1]}]}]})
        (res,) = r["results"]
        assert res["topic_name"] == t
        assert [(p["partition_index"], p["error_code"]) for p in res["partitions"]] == \
            [(0, NONE), (9, REPLICA_NOT_AVAILABLE), (1, LOG_DIR_NOT_FOUND)]


# ---- OffsetForLeaderEpoch ----------------------------------------------

def test_offset_for_leader_epoch(broker, kafka):
    t = kafka.create_topic(kafka.new_topic_name("epoch"), partitions=1)
    kafka.produce(t, [(None, b"v")] * 5)

    def ask(c, v, leader_epoch, current=-1, partition=0):
        r = call(c, 23, v, {"topics": [{"topic": t, "partitions": [
            {"partition": partition, "leader_epoch": leader_epoch,
             "current_leader_epoch": current}]}]})
        p = r["topics"][0]["partitions"][0]
        return p["error_code"], p["leader_epoch"], p["end_offset"]

    with conn(broker) as c:
        for v in (2, 4):
            assert ask(c, v, 0) == (NONE, 0, 5)
        assert ask(c, 4, 3) == (NONE, -1, -1)       # an epoch after the only one
        assert ask(c, 4, -1) == (NONE, -1, -1)      # undefined
        assert ask(c, 4, 0, current=0) == (NONE, 0, 5)
        assert ask(c, 4, 0, current=1)[0] == UNKNOWN_LEADER_EPOCH
        assert ask(c, 4, 0, current=-5)[0] == FENCED_LEADER_EPOCH
        assert ask(c, 4, 0, partition=4)[0] == UNKNOWN_TOPIC_OR_PARTITION


# ---- DescribeProducers -------------------------------------------------

def test_describe_producers(broker, kafka):
    t = kafka.create_topic(kafka.new_topic_name("producers"), partitions=2)
    kafka.produce(t, [(None, b"a")] * 3, **{"enable.idempotence": True})
    with conn(broker) as c:
        r = call(c, 61, 0, {"topics": [{"name": t, "partition_indexes": [0, 1, 6]},
                                       {"name": "bad name!", "partition_indexes": [0]}]})
    parts = {p["partition_index"]: p for p in r["topics"][0]["partitions"]}
    # The produce went to one partition or the other.
    active = [p for p in parts.values() if p["active_producers"]]
    assert len(active) == 1 and active[0]["error_code"] == NONE
    (prod,) = active[0]["active_producers"]
    assert prod["producer_id"] >= 0 and prod["producer_epoch"] >= 0
    assert prod["last_sequence"] == 2
    assert prod["last_timestamp"] > 0
    assert prod["current_txn_start_offset"] == -1
    assert parts[6]["error_code"] == UNKNOWN_TOPIC_OR_PARTITION
    assert r["topics"][1]["partitions"][0]["error_code"] == INVALID_TOPIC_EXCEPTION


# ---- Features, quotas, tokens, markers, client metrics ------------------

def test_update_features(broker):
    with conn(broker) as c:
        r = call(c, 57, 1, {"feature_updates": [
            {"feature": "metadata.version", "max_version_level": 21},
            {"feature": "transaction.version", "max_version_level": 1},
            {"feature": "no.such.feature", "max_version_level": 1}]})
        assert r["error_code"] == NONE
        assert [(x["feature"], x["error_code"]) for x in r["results"]] == [
            ("metadata.version", NONE), ("transaction.version", INVALID_UPDATE_VERSION),
            ("no.such.feature", INVALID_UPDATE_VERSION)]
        r = call(c, 57, 2, {"feature_updates": [
            {"feature": "group.version", "max_version_level": 0}], "validate_only": True})
        assert r["error_code"] == INVALID_UPDATE_VERSION
        assert r["error_message"]
    # Nothing changed.
    fin = {f["name"] for f in features(broker, 4)["finalized_features"]}
    assert fin == {"metadata.version", "transaction.version", "group.version"}


def test_client_quotas(broker):
    user = [{"entity_type": "user", "entity_name": "alice"}]
    with conn(broker) as c:
        r = call(c, 48, 1, {"components": [{"entity_type": "user", "match_type": 0,
                                            "match": "alice"}]})
        assert (r["error_code"], r["entries"]) == (NONE, [])
        r = call(c, 48, 1, {"components": [{"entity_type": "user", "match_type": 0,
                                            "match": None}]})
        assert r["error_code"] == INVALID_REQUEST and r["entries"] is None
        r = call(c, 48, 0, {"components": [{"entity_type": "ip", "match_type": 2},
                                           {"entity_type": "user", "match_type": 1}]})
        assert r["error_code"] == INVALID_REQUEST
        r = call(c, 48, 1, {"components": [{"entity_type": "group", "match_type": 2}]})
        assert r["error_code"] == UNSUPPORTED_VERSION

        r = call(c, 49, 1, {"entries": [
            {"entity": user, "ops": [{"key": "producer_byte_rate", "value": 1024.0}]},
            {"entity": user, "ops": [{"key": "producer_byte_rate", "remove": True}]},
            {"entity": user, "ops": [{"key": "no_such_quota", "value": 1.0}]},
            {"entity": [{"entity_type": "ip", "entity_name": "not-an-ip"}],
             "ops": [{"key": "connection_creation_rate", "value": 1.0}]},
            {"entity": user, "ops": [{"key": "consumer_byte_rate", "value": 1.5}]},
            {"entity": user, "ops": [{"key": "request_percentage", "value": 1.5}]},
            {"entity": user, "ops": [{"key": "producer_byte_rate", "value": float("nan")}]},
            {"entity": user, "ops": [{"key": "producer_byte_rate", "value": 1e300}]}]})
        got = [e["error_code"] for e in r["entries"]]
        assert got == [NONE, NONE, INVALID_REQUEST, INVALID_REQUEST,
                       INVALID_REQUEST, NONE, INVALID_REQUEST, INVALID_REQUEST]
        assert r["entries"][0]["entity"] == user
        r = call(c, 49, 0, {"entries": [
            {"entity": user, "ops": [{"key": "consumer_byte_rate", "value": 1.0}]}],
            "validate_only": True})
        assert r["entries"][0]["error_code"] == NONE
        # Stored: what the valid entries left (validate_only stores nothing);
        # test_quotas.py tests storage and enforcement.
        alice = [{"entity_type": "user", "match_type": 0, "match": "alice"}]
        r = call(c, 48, 1, {"components": alice, "strict": True})
        assert [(e["entity"], e["values"]) for e in r["entries"]] == [
            (user, [{"key": "request_percentage", "value": 1.5}])]
        r = call(c, 49, 1, {"entries": [
            {"entity": user, "ops": [{"key": "request_percentage", "remove": True}]}]})
        assert r["entries"][0]["error_code"] == NONE
        assert call(c, 48, 1, {"components": alice})["entries"] == []


@pytest.mark.parametrize("key,v", [(38, 1), (38, 3), (39, 1), (40, 2), (41, 3)])
def test_delegation_tokens_not_allowed_over_plaintext(broker, key, v):
    with conn(broker) as c:
        r = call(c, key, v, {"hmac": b"x", "renewers": []})
    # KafkaApis.allowTokenRequests: never over PLAINTEXT.
    assert r["error_code"] == DELEGATION_TOKEN_REQUEST_NOT_ALLOWED
    if key == 38:
        assert (r["principal_type"], r["principal_name"]) == ("User", "ANONYMOUS")
        assert r["token_id"] == "" and r["hmac"] == b""


def test_write_txn_markers_is_refused(broker, kafka):
    t = kafka.create_topic(kafka.new_topic_name("markers"), partitions=1)
    with conn(broker) as c:
        r = call(c, 27, 1, {"markers": [{"producer_id": 7, "producer_epoch": 0,
                                         "transaction_result": True, "coordinator_epoch": 0,
                                         "topics": [{"name": t, "partition_indexes": [0]}]}]})
    (m,) = r["markers"]
    assert m["producer_id"] == 7
    assert m["topics"][0]["partitions"] == [{"partition_index": 0,
                                             "error_code": CLUSTER_AUTHORIZATION_FAILED}]
    # Nothing was written to the partition.
    assert kafka.watermarks(t) == (0, 0)


def test_list_client_metrics_resources(broker):
    with conn(broker) as c:
        r = call(c, 74, 0)
    assert (r["error_code"], r["client_metrics_resources"]) == (NONE, [])


# ---- clients -------------------------------------------------------------
# None of the clients installed here (librdkafka 2.0, kafka-python 2.0,
# KafkaJS 2.2) has an admin call for the new APIs: they describe the
# cluster with Metadata. What they must still do is read ApiVersions with
# the new keys and the feature tags, and see the same cluster.

def test_clients_read_api_versions_and_see_the_cluster(broker, kafka):
    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="pgk-e2e")
    try:
        desc = admin.describe_cluster()
    finally:
        admin.close()
    with conn(broker) as c:
        dc = call(c, 60, 1)
    assert desc["cluster_id"] == dc["cluster_id"]
    assert desc["controller_id"] == dc["controller_id"]
    assert [b["node_id"] for b in desc["brokers"]] == [b["broker_id"] for b in dc["brokers"]]
    # librdkafka negotiates with ApiVersions v3 (tags included).
    md = kafka.admin().list_topics(timeout=10)
    assert list(md.brokers) == [dc["brokers"][0]["broker_id"]]
    assert md.cluster_id == dc["cluster_id"]


def test_large_requests_are_answered(broker, kafka):
    """Lists a client may make as long as the frame allows are handled in
    n log n (sorted, binary-searched), not by comparing every pair."""
    t = kafka.create_topic(kafka.new_topic_name("large"), partitions=1)
    n = 40000
    with conn(broker) as c:
        r = call(c, 75, 0, {"topics": [{"name": "zz%06d" % i} for i in range(n)] +
                            [{"name": t}]}, timeout=10)
        assert r["topics"][0]["name"] == t and len(r["topics"]) == n + 1
        r = call(c, 57, 1, {"feature_updates": [{"feature": "f%06d" % i, "max_version_level": 1}
                                                for i in range(n)]}, timeout=10)
        assert len(r["results"]) == n
        r = call(c, 34, 2, {"dirs": [{"path": "pg_kafka", "topics": [
            {"name": "x%06d" % i, "partitions": [0]} for i in range(n)]}]}, timeout=10)
        assert len(r["results"]) == n
