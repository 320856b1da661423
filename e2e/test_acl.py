"""
Kafka ACLs (docs/SECURITY.md): a broker with authorizer.enabled, the
PLAINTEXT client (User:ANONYMOUS) as its super user, and a restricted
principal, User:alice, who connects over the SSL listener with a client
certificate (mTLS; the principal is the certificate's CN).

ACLs are managed through the clients' admin APIs (kafka-python's
create_acls/describe_acls/delete_acls, KafkaJS's createAcls/describeAcls/
deleteAcls; confluent-kafka 1.7 has no ACL admin API) and enforced on what
alice does with confluent-kafka and kafka-python: produce to one topic,
consume with one group, refused elsewhere with Kafka's error codes; prefixed
and DENY rules; Metadata leaving out what she may not describe; and
kafka.produce() in SQL as a role without WRITE.

Each test has its own PostgreSQL database cluster: the authorizer's table
and the row security it turns on are cluster-wide state.
"""

import json
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,
                         ACLResourcePatternType, ResourcePattern, ResourcePatternFilter,
                         ResourceType)
from kafka.errors import (ClusterAuthorizationFailedError, GroupAuthorizationFailedError,
                          SecurityDisabledError, TopicAuthorizationFailedError)

import kafkaproto
import kmsg
from conftest import Broker, _new_pg, unique, wait_for
from test_kafkajs import node, node_ready  # noqa: F401 (fixture)
from test_tls import TlsBroker, certs  # noqa: F401 (fixture)

ALICE = "User:alice"


@pytest.fixture
def acl_pg():
    cluster = _new_pg()
    yield cluster
    cluster.destroy()


@pytest.fixture
def acl_broker(acl_pg, certs, make_broker):  # noqa: F811
    """Factory: a TlsBroker with the authorizer on, mTLS on its SSL
    listener, and User:ANONYMOUS (the PLAINTEXT listener) a super user."""

    def factory(*extra):
        return make_broker(acl_pg, "--authorizer-enabled", "true",
                           "--super-users", "User:ANONYMOUS;User:nobody-else",
                           "--ssl-client-auth", "required",
                           "--ssl-ca-location", str(certs / "ca.pem"), *extra,
                           cls=TlsBroker, cert=certs / "server.pem", key=certs / "server.key")

    return factory


def alice_conf(b, certs, **extra):  # noqa: F811
    """librdkafka configuration for alice over mTLS."""
    c = {"bootstrap.servers": b.ssl_bootstrap, "security.protocol": "ssl",
         "ssl.ca.location": str(certs / "ca.pem"),
         "ssl.certificate.location": str(certs / "alice.pem"),
         "ssl.key.location": str(certs / "alice.key"),
         "broker.address.family": "v4", "socket.timeout.ms": 20000}
    c.update(extra)
    return c


def alice_kp(b, certs):  # noqa: F811
    """kafka-python keyword arguments for alice over mTLS."""
    return dict(bootstrap_servers=b.ssl_bootstrap, security_protocol="SSL",
                ssl_cafile=str(certs / "ca.pem"), ssl_certfile=str(certs / "alice.pem"),
                ssl_keyfile=str(certs / "alice.key"), ssl_check_hostname=True)


def admin(b):
    return KafkaAdminClient(bootstrap_servers=b.bootstrap, client_id="acl-admin",
                            request_timeout_ms=20000)


def acl(principal, op, perm, rtype, name, pattern=ACLResourcePatternType.LITERAL, host="*"):
    return ACL(principal=principal, host=host, operation=op, permission_type=perm,
               resource_pattern=ResourcePattern(rtype, name, pattern))


def allow(principal, op, rtype, name, **kw):
    return acl(principal, op, ACLPermissionType.ALLOW, rtype, name, **kw)


def deny(principal, op, rtype, name, **kw):
    return acl(principal, op, ACLPermissionType.DENY, rtype, name, **kw)


def create(adm, *acls):
    res = adm.create_acls(list(acls))
    assert not res["failed"], res["failed"]
    assert len(res["succeeded"]) == len(acls)


def any_filter(principal=None, rtype=ResourceType.ANY, name=None,
               pattern=ACLResourcePatternType.ANY):
    return ACLFilter(principal=principal, host=None, operation=ACLOperation.ANY,
                     permission_type=ACLPermissionType.ANY,
                     resource_pattern=ResourcePatternFilter(rtype, name, pattern))


def described(adm, flt):
    acls, err = adm.describe_acls(flt)
    assert err.errno == 0, err
    return sorted((a.resource_pattern.resource_type.name, a.resource_pattern.resource_name,
                   a.resource_pattern.pattern_type.name, a.principal, a.host, a.operation.name,
                   a.permission_type.name) for a in acls)


def produce_as(conf, topic, values, timeout=30):
    """Produce with librdkafka; per record, None (delivered) or the error."""
    p = Producer(dict({"message.timeout.ms": 10000, "retries": 0}, **conf))
    out = {}

    def cb(err, msg, i):
        out[i] = err

    for i, v in enumerate(values):
        p.produce(topic, v, on_delivery=lambda err, msg, i=i: cb(err, msg, i))
    p.flush(timeout)
    return [out.get(i, "undelivered") for i in range(len(values))]


def consume_as(conf, topic, count, timeout=30):
    """Subscribe with librdkafka and return count values; the first
    error the consumer reports is raised as KafkaException."""
    c = Consumer(dict(conf, **{"auto.offset.reset": "earliest", "enable.auto.commit": False}))
    out = []
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(out) < count:
            assert time.monotonic() < deadline, "consumed %d of %d" % (len(out), count)
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                raise KafkaException(m.error())
            out.append(m.value())
        c.commit(asynchronous=False)
    finally:
        c.close()
    return out


def topic_metadata_error(conf, topic):
    """The error librdkafka's Metadata answer gives for topic (None if
    none), without creating it."""
    from confluent_kafka.admin import AdminClient
    a = AdminClient(dict(conf, **{"allow.auto.create.topics": False}))
    md = a.list_topics(topic=topic, timeout=20)
    t = md.topics.get(topic)
    return t.error.code() if t is not None and t.error is not None else None


def pg_roles(pg, *sql):
    for s in sql:
        pg.sql(s)


# --------------------------------------------------------------------------


def test_acl_admin_apis_need_an_authorizer(broker):
    """Without authorizer.enabled: SECURITY_DISABLED, as Kafka answers."""
    adm = admin(broker)
    try:
        with pytest.raises(SecurityDisabledError):
            adm.describe_acls(any_filter())
        res = adm.create_acls([allow(ALICE, ACLOperation.READ, ResourceType.TOPIC, "x")])
        assert len(res["failed"]) == 1
        assert res["failed"][0][1] is SecurityDisabledError
    finally:
        adm.close()


def test_admin_apis_and_produce_fetch_metadata(acl_broker, certs):  # noqa: F811
    b = acl_broker()
    adm = admin(b)
    mine, other = unique("mine"), unique("other")
    group = unique("g")
    try:
        adm.create_topics([])  # nothing; just proves the super user's admin works
        for t in (mine, other):
            b_topic(adm, t)
        create(adm,
               allow(ALICE, ACLOperation.WRITE, ResourceType.TOPIC, mine),
               allow(ALICE, ACLOperation.READ, ResourceType.TOPIC, mine),
               allow(ALICE, ACLOperation.READ, ResourceType.GROUP, group))
        # The same binding again is no error (ACLs are a set).
        create(adm, allow(ALICE, ACLOperation.READ, ResourceType.GROUP, group))
        assert described(adm, any_filter(principal=ALICE)) == sorted([
            ("TOPIC", mine, "LITERAL", ALICE, "*", "WRITE", "ALLOW"),
            ("TOPIC", mine, "LITERAL", ALICE, "*", "READ", "ALLOW"),
            ("GROUP", group, "LITERAL", ALICE, "*", "READ", "ALLOW"),
        ])
        assert described(adm, any_filter(rtype=ResourceType.GROUP)) == [
            ("GROUP", group, "LITERAL", ALICE, "*", "READ", "ALLOW")]

        conf = alice_conf(b, certs)
        assert produce_as(conf, mine, [b"a", b"b"]) == [None, None]
        errs = produce_as(conf, other, [b"x"])
        assert errs[0] is not None and errs[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        # (librdkafka learns it from Metadata: she may not even DESCRIBE it)
        assert "User:alice from /127.0.0.1 may not DESCRIBE TOPIC %s" % other in b.log_text()

        # Consume with her group: allowed; with another group: refused.
        got = consume_as(alice_conf(b, certs, **{"group.id": group}), mine, 2)
        assert got == [b"a", b"b"]
        with pytest.raises(KafkaException) as e:
            consume_as(alice_conf(b, certs, **{"group.id": unique("nope")}), mine, 1)
        assert e.value.args[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED
        # Her group, a topic she may not read: the fetch is refused.
        with pytest.raises(KafkaException) as e:
            consume_as(alice_conf(b, certs, **{"group.id": group}), other, 1)
        assert e.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

        # A topic she may write and so DESCRIBE, but not READ: Fetch
        # itself refuses.
        wonly = unique("wonly")
        b_topic(adm, wonly)
        create(adm, allow(ALICE, ACLOperation.WRITE, ResourceType.TOPIC, wonly))
        assert produce_as(conf, wonly, [b"w"]) == [None]
        with pytest.raises(KafkaException) as e:
            consume_as(alice_conf(b, certs, **{"group.id": group}), wonly, 1)
        assert e.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert "User:alice from /127.0.0.1 may not READ TOPIC %s" % wonly in b.log_text()

        # ListGroups: only the groups she may describe; the super user's
        # group (committed over PLAINTEXT) is left out.
        theirs = unique("theirs")
        anon = {"bootstrap.servers": b.bootstrap, "broker.address.family": "v4",
                "group.id": theirs}
        assert consume_as(anon, mine, 2) == [b"a", b"b"]
        kp = KafkaAdminClient(client_id="alice-admin", request_timeout_ms=20000,
                              **alice_kp(b, certs))
        try:
            assert sorted(g for g, _ in kp.list_consumer_groups()) == [group]
        finally:
            kp.close()
        assert {group, theirs} <= {g for g, _ in adm.list_consumer_groups()}

        # kafka-python's producer gets its exception for the other topic.
        prod = KafkaProducer(retries=0, max_block_ms=20000, **alice_kp(b, certs))
        try:
            prod.send(mine, b"c").get(timeout=30)
            with pytest.raises(TopicAuthorizationFailedError):
                prod.send(other, b"x").get(timeout=30)
        finally:
            prod.close()

        # DeleteAcls through kafka-python: her WRITE on mine goes.
        res = adm.delete_acls([ACLFilter(
            principal=ALICE, host="*", operation=ACLOperation.WRITE,
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, mine,
                                                   ACLResourcePatternType.LITERAL))])
        [(flt, matched, err)] = res
        assert err.errno == 0
        assert [(a.principal, a.operation.name) for a, _ in matched] == [(ALICE, "WRITE")]
        # She may still DESCRIBE it (READ implies it): Produce itself refuses.
        errs = produce_as(conf, mine, [b"d"])
        assert errs[0] is not None and errs[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert "User:alice from /127.0.0.1 may not WRITE TOPIC %s" % mine in b.log_text()

        # Metadata: alice sees only the topic she may describe.
        from confluent_kafka.admin import AdminClient
        md = AdminClient(dict(conf, **{"allow.auto.create.topics": False})).list_topics(
            timeout=20)
        assert mine in md.topics and other not in md.topics
        assert topic_metadata_error(conf, other) == KafkaError.TOPIC_AUTHORIZATION_FAILED
        # Nor is a topic she may not CREATE auto-created for her.
        ghost = unique("ghost")
        assert topic_metadata_error(conf, ghost) == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert ghost not in adm.list_topics()
    finally:
        adm.close()


def b_topic(adm, name):
    from kafka.admin import NewTopic
    adm.create_topics([NewTopic(name, 1, 1)])


def test_prefixed_and_deny_rules_through_kafkajs(acl_broker, certs, node_ready):  # noqa: F811
    b = acl_broker()
    adm = admin(b)
    base = unique("pay")
    eu, secret = base + ".eu", base + ".secret"
    try:
        for t in (eu, secret):
            b_topic(adm, t)
    finally:
        adm.close()

    def js(*steps):
        return node("acl_admin.js", {"bootstrap": b.bootstrap, "steps": list(steps)})

    def binding(pattern, name, op, perm):
        return {"resourceType": "TOPIC", "resourceName": name, "resourcePatternType": pattern,
                "principal": ALICE, "host": "*", "operation": op, "permissionType": perm}

    out = js({"op": "createAcls", "args": [{"acl": [
        binding("PREFIXED", base + ".", "WRITE", "ALLOW"),
        binding("LITERAL", secret, "WRITE", "DENY")]}]},
        {"op": "describeAcls", "args": [{
            "resourceType": "TOPIC", "resourceName": secret, "resourcePatternType": "MATCH",
            "operation": "ANY", "permissionType": "ANY"}]})
    assert out[0]["ok"], out[0]
    assert out[1]["ok"], out[1]
    found = sorted((r["resourcePatternType"], r["resourceName"], a["operation"],
                    a["permissionType"])
                   for r in out[1]["value"]["resources"] for a in r["acls"])
    assert found == [("LITERAL", secret, "WRITE", "DENY"),
                     ("PREFIXED", base + ".", "WRITE", "ALLOW")]

    conf = alice_conf(b, certs)
    assert produce_as(conf, eu, [b"1"]) == [None]
    errs = produce_as(conf, secret, [b"2"])
    assert errs[0] is not None and errs[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    # alice may not manage ACLs: ALTER / DESCRIBE on the cluster.
    kp = KafkaAdminClient(client_id="alice-admin", request_timeout_ms=20000, **alice_kp(b, certs))
    try:
        res = kp.create_acls([allow(ALICE, ACLOperation.ALL, ResourceType.TOPIC, "*")])
        assert [e for _, e in res["failed"]] == [ClusterAuthorizationFailedError]
        with pytest.raises(ClusterAuthorizationFailedError):
            kp.describe_acls(any_filter())
    finally:
        kp.close()

    # Deleting the DENY lets her write there.
    out = js({"op": "deleteAcls", "args": [{"filters": [{
        "resourceType": "TOPIC", "resourceName": secret, "resourcePatternType": "LITERAL",
        "principal": ALICE, "host": "*", "operation": "ANY", "permissionType": "DENY"}]}]})
    assert out[0]["ok"], out[0]
    [fr] = out[0]["value"]["filterResponses"]
    assert fr["errorCode"] == 0
    assert [(m["resourceName"], m["operation"], m["permissionType"])
            for m in fr["matchingAcls"]] == [(secret, "WRITE", "DENY")]
    assert produce_as(conf, secret, [b"3"]) == [None]


def test_rules_written_in_sql_and_produce_as_a_role(acl_broker, acl_pg, certs):  # noqa: F811
    b = acl_broker()
    adm = admin(b)
    mine, other = unique("sqlmine"), unique("sqlother")
    try:
        for t in (mine, other):
            b_topic(adm, t)
        conf = alice_conf(b, certs)
        assert topic_metadata_error(conf, mine) == KafkaError.TOPIC_AUTHORIZATION_FAILED

        # A rule inserted with SQL: the broker sees acl_version move.
        acl_pg.sql("INSERT INTO kafka.acls (resource_type, pattern_type, resource_name,"
                   " principal, operation, permission)"
                   " VALUES ('TOPIC', 'LITERAL', '%s', '%s', 'ALL', 'ALLOW')" % (mine, ALICE))
        wait_for(lambda: topic_metadata_error(conf, mine) is None, 20,
                 "the broker to load the rule written in SQL")
        assert described(adm, any_filter(name=mine)) == [
            ("TOPIC", mine, "LITERAL", ALICE, "*", "ALL", "ALLOW")]
        # kafka.authorizer follows the broker's settings.
        assert acl_pg.sql("SELECT enabled, super_users, allow_everyone_if_no_acl_found"
                          " FROM kafka.authorizer") == \
            "t|{User:ANONYMOUS,User:nobody-else}|f"

        # The role alice in SQL: kafka.produce() needs WRITE, rows need READ.
        acl_pg.sql("CREATE ROLE alice LOGIN IN ROLE kafka_users;"
                   " GRANT USAGE ON SCHEMA kafka TO alice;"
                   " GRANT SELECT, INSERT ON kafka.records TO alice;"
                   " GRANT SELECT, UPDATE ON kafka.partitions TO alice;"
                   " GRANT SELECT ON kafka.topics, kafka.topic_configs, kafka.authorizer,"
                   " kafka.acls TO alice")
        acl_pg.sql("SELECT kafka.produce('%s', 'k', 'by the superuser')" % other)

        def as_alice(query):
            return acl_pg.sql("SET ROLE alice; " + query).split("\n", 1)[1]

        assert as_alice("SELECT (kafka.produce('%s', 'k', 'v')).offset" % mine) == "0"
        with pytest.raises(RuntimeError) as e:
            as_alice("SELECT kafka.produce('%s', 'k', 'v')" % other)
        assert "TOPIC_AUTHORIZATION_FAILED" in str(e.value)
        # Row security: she sees the rows of the topic she may read only.
        assert as_alice("SELECT topic FROM kafka.records WHERE topic IN ('%s', '%s')"
                        % (mine, other)) == mine
    finally:
        adm.close()


def metadata_v8(conn, topics, auto_create=False):
    """Metadata v8 asking for cluster and topic authorized operations:
    (cluster operations, {topic: (error, topic operations)})."""
    w = kafkaproto.Writer()
    w.array(topics, lambda ww, t: ww.string(t))
    w.boolean(auto_create).boolean(True).boolean(True)
    r = conn.request(3, 8, w.getvalue())
    r.i32()  # throttle
    r.array(lambda rr: (rr.i32(), rr.string(), rr.i32(), rr.string()))
    r.string()
    r.i32()

    def partition(rr):
        rr.i16(), rr.i32(), rr.i32(), rr.i32()
        for _ in range(3):
            rr.array(lambda x: x.i32())

    def topic(rr):
        err, name, _ = rr.i16(), rr.string(), rr.boolean()
        rr.array(partition)
        return name, (err, rr.i32())

    out = dict(r.array(topic))
    return r.i32(), out


def ops(*names):
    return sum(1 << ACL_CODES[n] for n in names)


ACL_CODES = {"READ": 3, "WRITE": 4, "CREATE": 5, "DELETE": 6, "ALTER": 7, "DESCRIBE": 8,
             "CLUSTER_ACTION": 9, "DESCRIBE_CONFIGS": 10, "ALTER_CONFIGS": 11,
             "IDEMPOTENT_WRITE": 12}


def test_authorized_operations_and_transactions(acl_broker, certs):  # noqa: F811
    from test_tls import make_cert, tls_conn
    b = acl_broker()
    adm = admin(b)
    mine, other = unique("opsmine"), unique("opsother")
    txn = unique("txn")
    try:
        for t in (mine, other):
            b_topic(adm, t)
        create(adm,
               allow(ALICE, ACLOperation.WRITE, ResourceType.TOPIC, mine),
               allow(ALICE, ACLOperation.ALTER_CONFIGS, ResourceType.TOPIC, mine),
               allow(ALICE, ACLOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, "kafka-cluster"),
               allow(ALICE, ACLOperation.WRITE, ResourceType.TRANSACTIONAL_ID, txn))
        with tls_conn(b.ssl_port, certs / "ca.pem", certs / "alice.pem",
                      certs / "alice.key") as c:
            cluster_ops, topics = metadata_v8(c, [mine, other])
        assert cluster_ops == ops("IDEMPOTENT_WRITE")
        assert topics[mine] == (0, ops("WRITE", "DESCRIBE", "ALTER_CONFIGS",
                                       "DESCRIBE_CONFIGS"))
        assert topics[other][0] == 29
        # The super user is allowed every operation.
        with kafkaproto.Conn.to(b.bootstrap) as c:
            cluster_ops, topics = metadata_v8(c, [mine])
        assert cluster_ops == ops("CREATE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS",
                                  "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "ALTER", "DESCRIBE")
        assert topics[mine][1] == ops("READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
                                      "DESCRIBE_CONFIGS", "ALTER_CONFIGS")

        # An idempotent producer: IDEMPOTENT_WRITE lets it start.
        conf = alice_conf(b, certs)
        assert produce_as(dict(conf, **{"enable.idempotence": True, "retries": 3}), mine,
                          [b"i"]) == [None]
        # A transactional producer with its id, and with another one.
        p = Producer(dict(conf, **{"transactional.id": txn}))
        p.init_transactions(30)
        p.begin_transaction()
        p.produce(mine, b"t")
        p.commit_transaction(30)
        p = Producer(dict(conf, **{"transactional.id": txn + "-not-hers"}))
        with pytest.raises(KafkaException) as e:
            p.init_transactions(30)
        assert e.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED

        # InitProducerId without a transactional id, for bob (no ACL):
        # refused; once he may WRITE some topic (authorizeByResourceType),
        # allowed without IDEMPOTENT_WRITE.
        make_cert(certs, "ca", "bob", "bob", False)

        def bob_init_producer_id():
            with tls_conn(b.ssl_port, certs / "ca.pem", certs / "bob.pem",
                          certs / "bob.key") as c:
                w = kafkaproto.Writer().string(None).i32(60000)
                r = c.request(22, 0, w.getvalue())
                r.i32()
                return r.i16()

        assert bob_init_producer_id() == 31
        create(adm, allow("User:bob", ACLOperation.WRITE, ResourceType.TOPIC, "bob.",
                          pattern=ACLResourcePatternType.PREFIXED))
        assert bob_init_producer_id() == 0
    finally:
        adm.close()


def codes(resp, topics="topics", parts="partitions", code="error_code"):
    """{topic: [partition error codes]} of a per-topic, per-partition answer."""
    return {t.get("name", t.get("topic", t.get("topic_name"))): [p[code] for p in t[parts]]
            for t in resp[topics]}


def test_cluster_and_replica_apis(acl_broker, certs):  # noqa: F811
    """The cluster, replica and feature APIs over the raw protocol: alice,
    who may READ one topic, is refused what Kafka refuses her, with Kafka's
    codes; once she may ALTER the cluster she may elect leaders; the super
    user may do it all."""
    from test_tls import tls_conn
    b = acl_broker()
    adm = admin(b)
    mine, other = unique("rmine"), unique("rother")
    try:
        for t in (mine, other):
            b_topic(adm, t)
        create(adm, allow(ALICE, ACLOperation.READ, ResourceType.TOPIC, mine))
    finally:
        adm.close()

    def alice():
        return tls_conn(b.ssl_port, certs / "ca.pem", certs / "alice.pem", certs / "alice.key")

    both = [{"name": mine, "partition_indexes": [0]}, {"name": other, "partition_indexes": [0]}]
    epochs = {"replica_id": -1, "topics": [
        {"topic": t, "partitions": [{"partition": 0, "leader_epoch": 0}]} for t in (mine, other)]}
    elect = {"election_type": 0, "topic_partitions": [{"topic": mine, "partitions": [0]}]}
    reassign = {"topics": [{"name": mine, "partitions": [{"partition_index": 0,
                                                          "replicas": [1]}]}]}
    with kafkaproto.Conn.to(b.bootstrap) as c:
        [mv] = [f["max_version_level"] for f in kmsg.call(c, 18, 3)["finalized_features"]
                if f["name"] == "metadata.version"]
    features = {"feature_updates": [{"feature": "metadata.version", "max_version_level": mv}]}

    with alice() as c:
        # DescribeCluster answers, with no operation: she may not DESCRIBE it.
        r = kmsg.call(c, 60, 1, {"include_cluster_authorized_operations": True})
        assert (r["error_code"], r["cluster_authorized_operations"]) == (0, 0)
        # DescribeTopicPartitions: the topic she may not DESCRIBE refused,
        # after the page; her operations on the other.
        r = kmsg.call(c, 75, 0, {"topics": [{"name": other}, {"name": mine}]})
        assert [(t["name"], t["error_code"]) for t in r["topics"]] == [(mine, 0), (other, 29)]
        assert r["topics"][0]["topic_authorized_operations"] == ops("READ", "DESCRIBE")
        assert r["topics"][1]["partitions"] == []
        # DescribeProducers needs READ, OffsetForLeaderEpoch DESCRIBE.
        assert codes(kmsg.call(c, 61, 0, {"topics": both})) == {mine: [0], other: [29]}
        assert codes(kmsg.call(c, 23, 4, epochs)) == {mine: [0], other: [29]}
        # DescribeLogDirs: DESCRIBE on the cluster; empty before v3.
        r = kmsg.call(c, 35, 1, {"topics": None})
        assert r["results"] == []
        r = kmsg.call(c, 35, 4, {"topics": None})
        assert (r["error_code"], r["results"]) == (31, [])
        # ListPartitionReassignments: DESCRIBE on the cluster.
        r = kmsg.call(c, 46, 0, {"topics": [{"name": mine, "partition_indexes": [0]}]})
        assert r["error_code"] == 31
        # ALTER on the cluster: ElectLeaders, AlterPartitionReassignments,
        # AlterReplicaLogDirs, UpdateFeatures.
        r = kmsg.call(c, 43, 2, elect)
        assert r["error_code"] == 31
        assert codes(r, "replica_election_results", "partition_result") == {mine: [31]}
        r = kmsg.call(c, 45, 0, reassign)
        assert r["error_code"] == 31 and codes(r, "responses") == {mine: [31]}
        r = kmsg.call(c, 34, 2, {"dirs": [{"path": "anywhere", "topics": [
            {"name": mine, "partitions": [0]}]}]})
        assert codes(r, "results") == {mine: [31]}
        r = kmsg.call(c, 57, 1, features)
        assert (r["error_code"], r["results"]) == (31, [])
        # ListClientMetricsResources: DESCRIBE_CONFIGS on the cluster.
        assert kmsg.call(c, 74, 0)["error_code"] == 31
    assert "User:alice from /127.0.0.1 may not ALTER CLUSTER kafka-cluster" in b.log_text()

    # ALTER on the cluster lets her elect (and implies DESCRIBE).
    adm = admin(b)
    try:
        create(adm, allow(ALICE, ACLOperation.ALTER, ResourceType.CLUSTER, "kafka-cluster"))
    finally:
        adm.close()
    with alice() as c:
        r = kmsg.call(c, 43, 2, elect)
        assert r["error_code"] == 0
        assert codes(r, "replica_election_results", "partition_result") == {mine: [84]}
        assert kmsg.call(c, 35, 4, {"topics": None})["error_code"] == 0
        assert kmsg.call(c, 74, 0)["error_code"] == 31

    # The super user (PLAINTEXT, User:ANONYMOUS) may do all of it.
    with kafkaproto.Conn.to(b.bootstrap) as c:
        r = kmsg.call(c, 60, 1, {"include_cluster_authorized_operations": True})
        assert r["cluster_authorized_operations"] == ops(
            "CREATE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS",
            "IDEMPOTENT_WRITE", "ALTER", "DESCRIBE")
        r = kmsg.call(c, 75, 0, {"topics": [{"name": other}, {"name": mine}]})
        assert [(t["name"], t["error_code"]) for t in r["topics"]] == [(mine, 0), (other, 0)]
        assert codes(kmsg.call(c, 61, 0, {"topics": both})) == {mine: [0], other: [0]}
        assert codes(kmsg.call(c, 23, 4, epochs)) == {mine: [0], other: [0]}
        r = kmsg.call(c, 35, 4, {"topics": None})
        assert r["error_code"] == 0 and len(r["results"]) == 1
        assert kmsg.call(c, 46, 0, {"topics": None})["error_code"] == 0
        assert codes(kmsg.call(c, 43, 2, elect), "replica_election_results",
                     "partition_result") == {mine: [84]}
        assert codes(kmsg.call(c, 45, 0, reassign), "responses") == {mine: [0]}
        r = kmsg.call(c, 57, 1, features)
        assert r["error_code"] == 0 and [x["error_code"] for x in r["results"]] == [0]
        assert kmsg.call(c, 74, 0)["error_code"] == 0


def test_group_acl_names_with_nul(acl_broker, certs):  # noqa: F811
    """A GROUP binding names a group id as Kafka reads it: with a NUL byte,
    it is stored, described byte for byte, and allows only that group."""
    from test_groups import offset_commit
    from test_tls import tls_conn
    b = acl_broker()
    adm = admin(b)
    topic, base = unique("aclnul"), unique("aclnul-g")
    mine, theirs = base + "\0mine", base + "\0theirs"
    try:
        b_topic(adm, topic)
        create(adm, allow(ALICE, ACLOperation.READ, ResourceType.TOPIC, topic),
               allow(ALICE, ACLOperation.READ, ResourceType.GROUP, mine))
        assert described(adm, any_filter(rtype=ResourceType.GROUP, name=mine)) == [
            ("GROUP", mine, "LITERAL", ALICE, "*", "READ", "ALLOW")]
        assert described(adm, any_filter(rtype=ResourceType.GROUP, name=theirs)) == []
        with tls_conn(b.ssl_port, certs / "ca.pem", certs / "alice.pem",
                      certs / "alice.key") as c:
            assert offset_commit(c, mine.encode(), {topic: [(0, 1, "")]}) == {(topic, 0): 0}
            assert offset_commit(c, theirs.encode(), {topic: [(0, 1, "")]}) == {
                (topic, 0): 30}  # GROUP_AUTHORIZATION_FAILED
    finally:
        adm.close()
