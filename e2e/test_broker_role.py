"""
The broker's own database role needs only what docs/OPERATIONS.md lists:
a role that is no superuser and does not own the tables, with exactly those
grants, runs a broker with SASL and the authorizer on, and Kafka clients
create topics, produce, consume in a group, commit offsets, use idempotent
and transactional producers and log in with SCRAM through it. Without
BYPASSRLS, row security holds it back as the docs say.
"""

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import kafkaproto as kp
from conftest import unique, wait_for
from test_conformance_data import fetch_one
from test_sasl import SaslBroker, confluent_conf, make_role
from test_tls import certs  # noqa: F401  (fixture)

# docs/OPERATIONS.md, "The broker's database role": keep the two in step.
GRANTS = """
GRANT USAGE ON SCHEMA kafka TO {r};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA kafka TO {r};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA kafka TO {r};
GRANT EXECUTE ON FUNCTION kafka.scram_credential(text, text),
                          kafka.scram_credential_list() TO {r};
"""


class AsRole:
    """The cluster, but connecting as another role."""

    def __init__(self, pg, role):
        self._pg = pg
        self.conninfo = pg.conninfo.replace("user=postgres", "user=%s" % role)
        assert self.conninfo != pg.conninfo

    def __getattr__(self, name):
        return getattr(self._pg, name)


def broker_role(pg, bypassrls=True):
    role = unique("pgk_broker").replace("-", "_")
    pg.sql("CREATE ROLE %s LOGIN REPLICATION%s" % (role, " BYPASSRLS" if bypassrls else ""))
    for stmt in GRANTS.format(r=role).split(";"):
        if stmt.strip():
            pg.sql(stmt)
    assert pg.sql("SELECT rolsuper FROM pg_roles WHERE rolname = '%s'" % role) == "f"
    return role


def test_least_privilege_broker_role(fresh_pg, certs, make_broker):
    pg = fresh_pg
    role = broker_role(pg)
    broker = make_broker(AsRole(pg, role), "--authorizer-enabled", "true",
                         "--super-users", "User:ANONYMOUS", cls=SaslBroker, certs=certs)
    assert pg.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = '%s'" % role) != "0"

    # Admin and data through the PLAINTEXT listener (the super user).
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topic = unique("least")
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(30)
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True})
    for i in range(20):
        p.produce(topic, value=b"v%d" % i, partition=i % 2)
    assert p.flush(30) == 0

    tp = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": unique("tx")})
    tp.init_transactions(30)
    tp.begin_transaction()
    tp.produce(topic, value=b"in-txn", partition=0)
    tp.commit_transaction(30)

    group = unique("g")
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    try:
        c.subscribe([topic])
        got = []
        wait_for(lambda: got.extend(m.value() for m in c.consume(50, 1) if not m.error())
                 or len(got) >= 21, 60, "every record through the group")
        assert sorted(got) == sorted([b"v%d" % i for i in range(20)] + [b"in-txn"])
        c.commit(asynchronous=False)
        committed = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], 30)
        assert [x.offset for x in committed] == [12, 10]  # 10 + the transaction's 2 offsets
    finally:
        c.close()

    # A SCRAM login through the SASL_SSL listener (the role reads verifiers
    # through the two functions it may execute, and nothing else).
    user = make_role(pg, "alice-secret")
    pg.sql("INSERT INTO kafka.acls (resource_type, pattern_type, resource_name, principal, host,"
           " operation, permission) VALUES ('TOPIC', 'LITERAL', '%s', 'User:%s', '*', 'READ',"
           " 'ALLOW'), ('GROUP', 'LITERAL', '*', 'User:%s', '*', 'READ', 'ALLOW')"
           % (topic, user, user))
    sc = Consumer(confluent_conf(broker, certs, "SCRAM-SHA-256", user, "alice-secret",
                                 **{"group.id": unique("g"), "auto.offset.reset": "earliest"}))
    try:
        sc.subscribe([topic])
        got = []
        wait_for(lambda: got.extend(m.value() for m in sc.consume(50, 1) if not m.error())
                 or len(got) >= 21, 60, "records for the SCRAM user")
    finally:
        sc.close()
    assert pg.sql("SELECT enabled FROM kafka.authorizer") == "t"


def test_without_bypassrls_row_security_holds_the_broker_back(fresh_pg, make_broker):
    # docs/SECURITY.md: a broker role that neither owns the tables nor has
    # BYPASSRLS sees only what its own principal may read once the
    # authorizer is on: its consumers get nothing.
    pg = fresh_pg
    role = broker_role(pg, bypassrls=False)
    broker = make_broker(AsRole(pg, role), "--authorizer-enabled", "true",
                         "--super-users", "User:ANONYMOUS")
    topic = unique("rls")
    pg.sql("SELECT kafka.create_topic('%s', 1)" % topic)
    pg.sql("SELECT kafka.produce('%s', NULL::text, 'hidden')" % topic)
    with kp.Conn.to(broker.bootstrap) as conn:
        err, hw, records = fetch_one(conn, topic, 0, 0)
    assert (err, hw, records) == (0, 1, b"")
