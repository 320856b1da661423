"""
A schema-driven Kafka message codec for the raw-protocol tests, written
from the message definitions of the Kafka protocol (apache/kafka's
clients/src/main/resources/common/message) independently of the broker's
C tables, so that a test encodes what Kafka's clients send and decodes
what Kafka's brokers answer.

A message is a list of fields: F(name, type, versions, nullable=...,
fields=..., tag=..., default=...). Types are int8/16/32/64, bool, uuid,
float64, string, bytes, "[]int32", "[]int64", "[]string", "[]" (array of
structs, with fields) and "struct" (with fields). Versions and nullable
versions read "3+", "0-2" or "0". Requests are built from dicts (absent
fields take their defaults); responses decode into dicts, tagged fields by
name when described, skipped otherwise.
"""

import struct

from kafkaproto import ProtocolError, Reader, Writer


class F:
    def __init__(self, name, type_, versions="0+", nullable=None, fields=None, tag=None,
                 default=None):
        self.name = name
        self.type = type_
        self.lo, self.hi = _range(versions)
        self.null_lo, self.null_hi = _range(nullable) if nullable else (1 << 15, -1)
        self.fields = fields
        self.tag = tag
        self.default = default

    def present(self, v):
        return self.lo <= v <= self.hi

    def nullable(self, v):
        return self.null_lo <= v <= self.null_hi


def _range(s):
    if s.endswith("+"):
        return int(s[:-1]), 1 << 15
    if "-" in s:
        a, b = s.split("-")
        return int(a), int(b)
    return int(s), int(s)


# ---- encoding ------------------------------------------------------------

def _default(f, v):
    if f.default is not None:
        return f.default
    if f.nullable(v) and f.type in ("string", "bytes", "struct"):
        return None
    return {"string": "", "bytes": b"", "bool": False, "uuid": bytes(16),
            "float64": 0.0, "struct": {}}.get(f.type, [] if f.type.startswith("[]") else 0)


def _put(w, f, v, flex, val):
    t = f.type
    if t == "int8":
        w.i8(val)
    elif t == "int16":
        w.i16(val)
    elif t == "int32":
        w.i32(val)
    elif t == "int64":
        w.i64(val)
    elif t == "bool":
        w.i8(1 if val else 0)
    elif t == "uuid":
        w.raw(val)
    elif t == "float64":
        w.raw(struct.pack(">d", val))
    elif t == "string":
        if flex:
            w.string(val, True)
        else:
            w.string(val)
    elif t == "bytes":
        w.bytes_(val, flex)
    elif t == "struct":
        if f.nullable(v):
            w.i8(-1 if val is None else 1)
            if val is None:
                return
        w.raw(encode(f.fields, v, flex, val or {}))
    elif t.startswith("[]"):
        if val is None:
            w.uvarint(0) if flex else w.i32(-1)
            return
        w.uvarint(len(val) + 1) if flex else w.i32(len(val))
        elem = t[2:]
        for item in val:
            if elem == "":
                w.raw(encode(f.fields, v, flex, item))
            else:
                _put(w, F("", elem), v, flex, item)
    else:
        raise ValueError("unknown type %s" % t)


def encode(fields, v, flex, values):
    w = Writer()
    tagged = []
    for f in fields:
        if not f.present(v):
            continue
        val = values.get(f.name, _default(f, v))
        if f.tag is not None:
            if flex and val != _default(f, v):
                tagged.append((f.tag, f, val))
            continue
        _put(w, f, v, flex, val)
    if flex:
        w.uvarint(len(tagged))
        for tag, f, val in sorted(tagged, key=lambda x: x[0]):
            inner = Writer()
            _put(inner, f, v, True, val)
            data = inner.getvalue()
            w.uvarint(tag).uvarint(len(data)).raw(data)
    return w.getvalue()


# ---- decoding ------------------------------------------------------------

def _get(r, f, v, flex):
    t = f.type
    if t == "int8":
        return r.i8()
    if t == "int16":
        return r.i16()
    if t == "int32":
        return r.i32()
    if t == "int64":
        return r.i64()
    if t == "bool":
        b = r.i8()
        if b not in (0, 1):
            raise ProtocolError("bool field %s is %d" % (f.name, b))
        return b == 1
    if t == "uuid":
        return r.take(16)
    if t == "float64":
        return struct.unpack(">d", r.take(8))[0]
    if t == "string":
        s = r.string(flex)
        if s is None and not f.nullable(v):
            raise ProtocolError("null in non-nullable string %s (v%d)" % (f.name, v))
        return s
    if t == "bytes":
        b = r.bytes_(flex)
        if b is None and not f.nullable(v):
            raise ProtocolError("null in non-nullable bytes %s (v%d)" % (f.name, v))
        return b
    if t == "struct":
        if f.nullable(v):
            p = r.i8()
            if p == -1:
                return None
            if p != 1:
                raise ProtocolError("struct marker %d for %s" % (p, f.name))
        return decode(f.fields, v, flex, r)
    if t.startswith("[]"):
        n = r.uvarint() - 1 if flex else r.i32()
        if n < 0:
            if not f.nullable(v):
                raise ProtocolError("null in non-nullable array %s (v%d)" % (f.name, v))
            return None
        if n > r.remaining():
            raise ProtocolError("array %s count %d too large" % (f.name, n))
        elem = t[2:]
        if elem == "":
            return [decode(f.fields, v, flex, r) for _ in range(n)]
        return [_get(r, F("", elem), v, flex) for _ in range(n)]
    raise ValueError("unknown type %s" % t)


def decode(fields, v, flex, r):
    out = {}
    for f in fields:
        if f.present(v) and f.tag is None:
            out[f.name] = _get(r, f, v, flex)
        elif f.tag is not None or not f.present(v):
            out[f.name] = _default(f, v)
    if flex:
        for tag, data in r.tags().items():
            for f in fields:
                if f.tag == tag and f.present(v):
                    inner = Reader(data)
                    out[f.name] = _get(inner, f, v, True)
                    if inner.remaining():
                        raise ProtocolError("tag %d of %s has %d extra bytes"
                                            % (tag, f.name, inner.remaining()))
    return out


# ---- messages ------------------------------------------------------------

class Api:
    def __init__(self, key, name, flex, req, resp):
        self.key, self.name, self.flex = key, name, flex
        self.req, self.resp = req, resp

    def flexible(self, v):
        return self.flex is not None and v >= self.flex


APIS = {}


def api(key, name, flex, req, resp):
    APIS[key] = Api(key, name, flex, req, resp)


def call(conn, key, version, values=None, timeout=15.0):
    """Send one request and decode its response (a dict)."""
    a = APIS[key]
    flex = a.flexible(version)
    body = encode(a.req, version, flex, values or {})
    hv = 2 if flex else 1
    # ApiVersions answers with response header v0 in every version.
    rhv = 1 if flex and key != 18 else 0
    r = conn.request(key, version, body, header_version=hv, response_header_version=rhv,
                     timeout=timeout)
    out = decode(a.resp, version, flex, r)
    if r.remaining():
        raise ProtocolError("%s v%d response: %d bytes left over"
                            % (a.name, version, r.remaining()))
    return out


S, I8, I16, I32, I64, B = "string", "int8", "int16", "int32", "int64", "bool"

# OffsetCommit (8) and OffsetFetch (9) responses (v8+: one group per
# request), for the tests that build these requests themselves.
OFFSET_COMMIT_RESP = [
    F("throttle_time_ms", I32, "3+"),
    F("topics", "[]", fields=[
        F("name", S, "0-9"), F("topic_id", "uuid", "10+"),
        F("partitions", "[]", fields=[F("partition_index", I32), F("error_code", I16)])])]
OFFSET_FETCH_RESP = [
    F("throttle_time_ms", I32),
    F("groups", "[]", fields=[
        F("group_id", S),
        F("topics", "[]", fields=[
            F("name", S, "0-9"), F("topic_id", "uuid", "10+"),
            F("partitions", "[]", fields=[
                F("partition_index", I32), F("committed_offset", I64),
                F("committed_leader_epoch", I32), F("metadata", S, nullable="0+"),
                F("error_code", I16)])]),
        F("error_code", I16)])]

# ApiVersions (18)
api(18, "ApiVersions", 3,
    [F("client_software_name", S, "3+", default="pgk-e2e"),
     F("client_software_version", S, "3+", default="1.0")],
    [F("error_code", I16),
     F("api_keys", "[]", fields=[F("api_key", I16), F("min_version", I16),
                                 F("max_version", I16)]),
     F("throttle_time_ms", I32, "1+"),
     F("supported_features", "[]", "3+", tag=0,
       fields=[F("name", S, "3+"), F("min_version", I16, "3+"), F("max_version", I16, "3+")]),
     F("finalized_features_epoch", I64, "3+", tag=1, default=-1),
     F("finalized_features", "[]", "3+", tag=2,
       fields=[F("name", S, "3+"), F("max_version_level", I16, "3+"),
               F("min_version_level", I16, "3+")]),
     F("zk_migration_ready", B, "3+", tag=3)])

# OffsetForLeaderEpoch (23)
api(23, "OffsetForLeaderEpoch", 4,
    [F("replica_id", I32, "3+", default=-2),
     F("topics", "[]", fields=[
         F("topic", S),
         F("partitions", "[]", fields=[F("partition", I32),
                                       F("current_leader_epoch", I32, "2+", default=-1),
                                       F("leader_epoch", I32)])])],
    [F("throttle_time_ms", I32, "2+"),
     F("topics", "[]", fields=[
         F("topic", S),
         F("partitions", "[]", fields=[F("error_code", I16), F("partition", I32),
                                       F("leader_epoch", I32, "1+", default=-1),
                                       F("end_offset", I64, default=-1)])])])

# WriteTxnMarkers (27)
api(27, "WriteTxnMarkers", 1,
    [F("markers", "[]", fields=[
        F("producer_id", I64), F("producer_epoch", I16), F("transaction_result", B),
        F("topics", "[]", fields=[F("name", S), F("partition_indexes", "[]int32")]),
        F("coordinator_epoch", I32)])],
    [F("markers", "[]", fields=[
        F("producer_id", I64),
        F("topics", "[]", fields=[
            F("name", S),
            F("partitions", "[]", fields=[F("partition_index", I32),
                                          F("error_code", I16)])])])])

# AlterReplicaLogDirs (34)
api(34, "AlterReplicaLogDirs", 2,
    [F("dirs", "[]", fields=[
        F("path", S),
        F("topics", "[]", fields=[F("name", S), F("partitions", "[]int32")])])],
    [F("throttle_time_ms", I32),
     F("results", "[]", fields=[
         F("topic_name", S),
         F("partitions", "[]", fields=[F("partition_index", I32), F("error_code", I16)])])])

# DescribeLogDirs (35)
api(35, "DescribeLogDirs", 2,
    [F("topics", "[]", nullable="0+",
       fields=[F("topic", S), F("partitions", "[]int32")])],
    [F("throttle_time_ms", I32),
     F("error_code", I16, "3+"),
     F("results", "[]", fields=[
         F("error_code", I16), F("log_dir", S),
         F("topics", "[]", fields=[
             F("name", S),
             F("partitions", "[]", fields=[F("partition_index", I32),
                                           F("partition_size", I64), F("offset_lag", I64),
                                           F("is_future_key", B)])]),
         F("total_bytes", I64, "4+", default=-1),
         F("usable_bytes", I64, "4+", default=-1)])])

_PRINCIPAL = [F("principal_type", S), F("principal_name", S)]

# CreateDelegationToken (38)
api(38, "CreateDelegationToken", 2,
    [F("owner_principal_type", S, "3+", nullable="3+"),
     F("owner_principal_name", S, "3+", nullable="3+"),
     F("renewers", "[]", fields=_PRINCIPAL),
     F("max_lifetime_ms", I64, default=-1)],
    [F("error_code", I16), F("principal_type", S), F("principal_name", S),
     F("token_requester_principal_type", S, "3+"),
     F("token_requester_principal_name", S, "3+"),
     F("issue_timestamp_ms", I64), F("expiry_timestamp_ms", I64),
     F("max_timestamp_ms", I64), F("token_id", S), F("hmac", "bytes"),
     F("throttle_time_ms", I32)])

_TOKEN_EXPIRY = [F("error_code", I16), F("expiry_timestamp_ms", I64),
                 F("throttle_time_ms", I32)]
# RenewDelegationToken (39), ExpireDelegationToken (40)
api(39, "RenewDelegationToken", 2,
    [F("hmac", "bytes"), F("renew_period_ms", I64)], _TOKEN_EXPIRY)
api(40, "ExpireDelegationToken", 2,
    [F("hmac", "bytes"), F("expiry_time_period_ms", I64)], _TOKEN_EXPIRY)

# DescribeDelegationToken (41)
api(41, "DescribeDelegationToken", 2,
    [F("owners", "[]", nullable="0+", fields=_PRINCIPAL)],
    [F("error_code", I16),
     F("tokens", "[]", fields=[
         F("principal_type", S), F("principal_name", S),
         F("token_requester_principal_type", S, "3+"),
         F("token_requester_principal_name", S, "3+"),
         F("issue_timestamp", I64), F("expiry_timestamp", I64), F("max_timestamp", I64),
         F("token_id", S), F("hmac", "bytes"), F("renewers", "[]", fields=_PRINCIPAL)]),
     F("throttle_time_ms", I32)])

_PARTITION_RESULT = [F("partition_id", I32), F("error_code", I16),
                     F("error_message", S, nullable="0+")]

# ElectLeaders (43)
api(43, "ElectLeaders", 2,
    [F("election_type", I8, "1+"),
     F("topic_partitions", "[]", nullable="0+",
       fields=[F("topic", S), F("partitions", "[]int32")]),
     F("timeout_ms", I32, default=60000)],
    [F("throttle_time_ms", I32), F("error_code", I16, "1+"),
     F("replica_election_results", "[]", fields=[
         F("topic", S), F("partition_result", "[]", fields=_PARTITION_RESULT)])])

# AlterPartitionReassignments (45)
api(45, "AlterPartitionReassignments", 0,
    [F("timeout_ms", I32, default=60000),
     F("topics", "[]", fields=[
         F("name", S),
         F("partitions", "[]", fields=[F("partition_index", I32),
                                       F("replicas", "[]int32", nullable="0+")])])],
    [F("throttle_time_ms", I32), F("error_code", I16),
     F("error_message", S, nullable="0+"),
     F("responses", "[]", fields=[
         F("name", S),
         F("partitions", "[]", fields=[F("partition_index", I32), F("error_code", I16),
                                       F("error_message", S, nullable="0+")])])])

# ListPartitionReassignments (46)
api(46, "ListPartitionReassignments", 0,
    [F("timeout_ms", I32, default=60000),
     F("topics", "[]", nullable="0+",
       fields=[F("name", S), F("partition_indexes", "[]int32")])],
    [F("throttle_time_ms", I32), F("error_code", I16),
     F("error_message", S, nullable="0+"),
     F("topics", "[]", fields=[
         F("name", S),
         F("partitions", "[]", fields=[F("partition_index", I32), F("replicas", "[]int32"),
                                       F("adding_replicas", "[]int32"),
                                       F("removing_replicas", "[]int32")])])])

_ENTITY = [F("entity_type", S), F("entity_name", S, nullable="0+")]

# DescribeClientQuotas (48)
api(48, "DescribeClientQuotas", 1,
    [F("components", "[]", fields=[F("entity_type", S), F("match_type", I8),
                                   F("match", S, nullable="0+")]),
     F("strict", B)],
    [F("throttle_time_ms", I32), F("error_code", I16),
     F("error_message", S, nullable="0+"),
     F("entries", "[]", nullable="0+", fields=[
         F("entity", "[]", fields=_ENTITY),
         F("values", "[]", fields=[F("key", S), F("value", "float64")])])])

# AlterClientQuotas (49)
api(49, "AlterClientQuotas", 1,
    [F("entries", "[]", fields=[
        F("entity", "[]", fields=_ENTITY),
        F("ops", "[]", fields=[F("key", S), F("value", "float64"), F("remove", B)])]),
     F("validate_only", B)],
    [F("throttle_time_ms", I32),
     F("entries", "[]", fields=[F("error_code", I16), F("error_message", S, nullable="0+"),
                                F("entity", "[]", fields=_ENTITY)])])

# UpdateFeatures (57)
api(57, "UpdateFeatures", 0,
    [F("timeout_ms", I32, default=60000),
     F("feature_updates", "[]", fields=[
         F("feature", S), F("max_version_level", I16), F("allow_downgrade", B, "0"),
         F("upgrade_type", I8, "1+", default=1)]),
     F("validate_only", B, "1+")],
    [F("throttle_time_ms", I32), F("error_code", I16),
     F("error_message", S, nullable="0+"),
     F("results", "[]", "0-1", fields=[F("feature", S), F("error_code", I16),
                                       F("error_message", S, nullable="0+")])])

# DescribeCluster (60)
api(60, "DescribeCluster", 0,
    [F("include_cluster_authorized_operations", B), F("endpoint_type", I8, "1+", default=1),
     F("include_fenced_brokers", B, "2+")],
    [F("throttle_time_ms", I32), F("error_code", I16),
     F("error_message", S, nullable="0+"), F("endpoint_type", I8, "1+", default=1),
     F("cluster_id", S), F("controller_id", I32, default=-1),
     F("brokers", "[]", fields=[F("broker_id", I32), F("host", S), F("port", I32),
                                F("rack", S, nullable="0+"), F("is_fenced", B, "2+")]),
     F("cluster_authorized_operations", I32, default=-2147483648)])

# DescribeProducers (61)
api(61, "DescribeProducers", 0,
    [F("topics", "[]", fields=[F("name", S), F("partition_indexes", "[]int32")])],
    [F("throttle_time_ms", I32),
     F("topics", "[]", fields=[
         F("name", S),
         F("partitions", "[]", fields=[
             F("partition_index", I32), F("error_code", I16),
             F("error_message", S, nullable="0+"),
             F("active_producers", "[]", fields=[
                 F("producer_id", I64), F("producer_epoch", I32),
                 F("last_sequence", I32, default=-1), F("last_timestamp", I64, default=-1),
                 F("coordinator_epoch", I32), F("current_txn_start_offset", I64,
                                                default=-1)])])])])

# ListClientMetricsResources (74)
api(74, "ListClientMetricsResources", 0, [],
    [F("throttle_time_ms", I32), F("error_code", I16),
     F("client_metrics_resources", "[]", fields=[F("name", S)])])

_CURSOR = [F("topic_name", S), F("partition_index", I32)]

# DescribeTopicPartitions (75)
api(75, "DescribeTopicPartitions", 0,
    [F("topics", "[]", fields=[F("name", S)]),
     F("response_partition_limit", I32, default=2000),
     F("cursor", "struct", nullable="0+", fields=_CURSOR)],
    [F("throttle_time_ms", I32),
     F("topics", "[]", fields=[
         F("error_code", I16), F("name", S, nullable="0+"), F("topic_id", "uuid"),
         F("is_internal", B),
         F("partitions", "[]", fields=[
             F("error_code", I16), F("partition_index", I32), F("leader_id", I32),
             F("leader_epoch", I32, default=-1), F("replica_nodes", "[]int32"),
             F("isr_nodes", "[]int32"),
             F("eligible_leader_replicas", "[]int32", nullable="0+"),
             F("last_known_elr", "[]int32", nullable="0+"),
             F("offline_replicas", "[]int32")]),
         F("topic_authorized_operations", I32, default=-2147483648)]),
     F("next_cursor", "struct", nullable="0+", fields=_CURSOR)])


# ---- requests of the other served APIs -------------------------------------
# ConsumerGroupHeartbeat (68) and ConsumerGroupDescribe (69): the KIP-848
# consumer group protocol.
_CG_TPS = [F("topic_id", "uuid"), F("partitions", "[]int32")]
api(68, "ConsumerGroupHeartbeat", 0,
    [F("group_id", S), F("member_id", S), F("member_epoch", I32),
     F("instance_id", S, nullable="0+"), F("rack_id", S, nullable="0+"),
     F("rebalance_timeout_ms", I32, default=-1),
     F("subscribed_topic_names", "[]string", nullable="0+"),
     F("subscribed_topic_regex", S, "1+", nullable="1+"),
     F("server_assignor", S, nullable="0+"),
     F("topic_partitions", "[]", nullable="0+", fields=_CG_TPS)],
    [F("throttle_time_ms", I32), F("error_code", I16), F("error_message", S, nullable="0+"),
     F("member_id", S, nullable="0+"), F("member_epoch", I32),
     F("heartbeat_interval_ms", I32),
     F("assignment", "struct", nullable="0+", fields=[
         F("topic_partitions", "[]", fields=_CG_TPS)])])
_CG_ASSIGNMENT = [F("topic_partitions", "[]", fields=[
    F("topic_id", "uuid"), F("topic_name", S), F("partitions", "[]int32")])]
api(69, "ConsumerGroupDescribe", 0,
    [F("group_ids", "[]string"), F("include_authorized_operations", B)],
    [F("throttle_time_ms", I32),
     F("groups", "[]", fields=[
         F("error_code", I16), F("error_message", S, nullable="0+"), F("group_id", S),
         F("group_state", S), F("group_epoch", I32), F("assignment_epoch", I32),
         F("assignor_name", S),
         F("members", "[]", fields=[
             F("member_id", S), F("instance_id", S, nullable="0+"),
             F("rack_id", S, nullable="0+"), F("member_epoch", I32), F("client_id", S),
             F("client_host", S), F("subscribed_topic_names", "[]string"),
             F("subscribed_topic_regex", S, nullable="0+"),
             F("assignment", "struct", fields=_CG_ASSIGNMENT),
             F("target_assignment", "struct", fields=_CG_ASSIGNMENT),
             F("member_type", I8, "1+", default=-1)]),
         F("authorized_operations", I32, default=-2147483648)])])

# Only their requests are described (with the first flexible version), so
# a test can send each one well-formed at any version; their answers are
# read by the tests that own them.

REQUESTS = {}


def request_spec(key, flex, fields):
    REQUESTS[key] = (flex, fields)


def send_request(conn, key, version, values=None, timeout=15.0):
    """Send one request described here or in APIS; return the Reader on its
    response body (header read) without decoding it."""
    if key in APIS:
        flex_from, fields = APIS[key].flex, APIS[key].req
    else:
        flex_from, fields = REQUESTS[key]
    flex = flex_from is not None and version >= flex_from
    body = encode(fields, version, flex, values or {})
    rhv = 1 if flex and key != 18 else 0
    return conn.request(key, version, body, header_version=2 if flex else 1,
                        response_header_version=rhv, timeout=timeout)


_TOPIC_PARTS = [F("name", S), F("partitions", "[]int32")]

request_spec(0, 9, [
    F("transactional_id", S, "3+", nullable="3+"), F("acks", I16, default=-1),
    F("timeout_ms", I32, default=1000),
    F("topic_data", "[]", fields=[
        F("name", S),
        F("partition_data", "[]", fields=[F("index", I32),
                                          F("records", "bytes", nullable="0+")])])])
request_spec(1, 12, [
    F("replica_id", I32, "0-14", default=-1), F("max_wait_ms", I32), F("min_bytes", I32),
    F("max_bytes", I32, "3+", default=0x7fffffff), F("isolation_level", I8, "4+"),
    F("session_id", I32, "7+"), F("session_epoch", I32, "7+", default=-1),
    F("topics", "[]", fields=[
        F("topic", S, "0-12"), F("topic_id", "uuid", "13+"),
        F("partitions", "[]", fields=[
            F("partition", I32), F("current_leader_epoch", I32, "9+", default=-1),
            F("fetch_offset", I64), F("last_fetched_epoch", I32, "12+", default=-1),
            F("log_start_offset", I64, "5+", default=-1), F("partition_max_bytes", I32)])]),
    F("forgotten_topics_data", "[]", "7+", fields=[
        F("topic", S, "7-12"), F("topic_id", "uuid", "13+"), F("partitions", "[]int32", "7+")]),
    F("rack_id", S, "11+")])
request_spec(2, 6, [
    F("replica_id", I32, default=-1), F("isolation_level", I8, "2+"),
    F("topics", "[]", fields=[
        F("name", S),
        F("partitions", "[]", fields=[
            F("partition_index", I32), F("current_leader_epoch", I32, "4+", default=-1),
            F("timestamp", I64), F("max_num_offsets", I32, "0", default=1)])]),
    F("timeout_ms", I32, "10+")])
request_spec(3, 9, [
    F("topics", "[]", nullable="1+", default=[],
      fields=[F("topic_id", "uuid", "10+"), F("name", S, nullable="10+")]),
    F("allow_auto_topic_creation", B, "4+"),
    F("include_cluster_authorized_operations", B, "8-10"),
    F("include_topic_authorized_operations", B, "8+")])
request_spec(19, 5, [
    F("topics", "[]", fields=[
        F("name", S), F("num_partitions", I32), F("replication_factor", I16),
        F("assignments", "[]", fields=[F("partition_index", I32),
                                       F("broker_ids", "[]int32")]),
        F("configs", "[]", fields=[F("name", S), F("value", S, nullable="0+")])]),
    F("timeout_ms", I32, default=1000), F("validate_only", B, "1+")])
request_spec(20, 4, [
    F("topics", "[]", "6+", fields=[F("name", S, "6+", nullable="6+"),
                                    F("topic_id", "uuid", "6+")]),
    F("topic_names", "[]string", "0-5"), F("timeout_ms", I32, default=1000)])
request_spec(32, 4, [
    F("resources", "[]", fields=[F("resource_type", I8), F("resource_name", S),
                                 F("configuration_keys", "[]string", nullable="0+")]),
    F("include_synonyms", B, "1+"), F("include_documentation", B, "3+")])
request_spec(37, 2, [
    F("topics", "[]", fields=[
        F("name", S), F("count", I32),
        F("assignments", "[]", nullable="0+", fields=[F("broker_ids", "[]int32")])]),
    F("timeout_ms", I32, default=1000), F("validate_only", B)])
request_spec(8, 8, [
    F("group_id", S), F("generation_id_or_member_epoch", I32, "1+", default=-1),
    F("member_id", S, "1+"), F("group_instance_id", S, "7+", nullable="7+"),
    F("retention_time_ms", I64, "2-4", default=-1),
    F("topics", "[]", fields=[
        F("name", S, "0-9"), F("topic_id", "uuid", "10+"),
        F("partitions", "[]", fields=[
            F("partition_index", I32), F("committed_offset", I64),
            F("committed_leader_epoch", I32, "6+", default=-1),
            F("commit_timestamp", I64, "1", default=-1),
            F("committed_metadata", S, nullable="0+")])])])
request_spec(9, 6, [
    F("group_id", S, "0-7"),
    F("topics", "[]", "0-7", nullable="2-7",
      fields=[F("name", S, "0-7"), F("partition_indexes", "[]int32", "0-7")]),
    F("groups", "[]", "8+", fields=[
        F("group_id", S, "8+"), F("member_id", S, "9+", nullable="9+"),
        F("member_epoch", I32, "9+", default=-1),
        F("topics", "[]", "8+", nullable="8+",
          fields=[F("name", S, "8-9"), F("topic_id", "uuid", "10+"),
                  F("partition_indexes", "[]int32", "8+")])]),
    F("require_stable", B, "7+")])
request_spec(10, 3, [F("key", S, "0-3"), F("key_type", I8, "1+"),
                     F("coordinator_keys", "[]string", "4+")])
request_spec(11, 6, [
    F("group_id", S), F("session_timeout_ms", I32, default=10000),
    F("rebalance_timeout_ms", I32, "1+", default=-1), F("member_id", S),
    F("group_instance_id", S, "5+", nullable="5+"), F("protocol_type", S, default="consumer"),
    F("protocols", "[]", fields=[F("name", S), F("metadata", "bytes")]),
    F("reason", S, "8+", nullable="8+")])
request_spec(12, 4, [F("group_id", S), F("generation_id", I32), F("member_id", S),
                     F("group_instance_id", S, "3+", nullable="3+")])
request_spec(13, 4, [
    F("group_id", S), F("member_id", S, "0-2"),
    F("members", "[]", "3+", fields=[F("member_id", S, "3+"),
                                     F("group_instance_id", S, "3+", nullable="3+"),
                                     F("reason", S, "5+", nullable="5+")])])
request_spec(14, 4, [
    F("group_id", S), F("generation_id", I32), F("member_id", S),
    F("group_instance_id", S, "3+", nullable="3+"),
    F("protocol_type", S, "5+", nullable="5+"), F("protocol_name", S, "5+", nullable="5+"),
    F("assignments", "[]", fields=[F("member_id", S), F("assignment", "bytes")])])
request_spec(15, 5, [F("groups", "[]string"), F("include_authorized_operations", B, "3+")])
request_spec(16, 3, [F("states_filter", "[]string", "4+"),
                     F("types_filter", "[]string", "5+")])
request_spec(42, 2, [F("groups_names", "[]string")])
request_spec(47, None, [
    F("group_id", S),
    F("topics", "[]", fields=[F("name", S),
                              F("partitions", "[]", fields=[F("partition_index", I32)])])])
# Transactions: described with their answers (test_txn_v2.py reads them).
api(22, "InitProducerId", 2,
    [F("transactional_id", S, nullable="0+"),
     F("transaction_timeout_ms", I32, default=60000),
     F("producer_id", I64, "3+", default=-1),
     F("producer_epoch", I16, "3+", default=-1)],
    [F("throttle_time_ms", I32), F("error_code", I16), F("producer_id", I64),
     F("producer_epoch", I16)])
_APT_RESULT = [F("name", S), F("results_by_partition", "[]", fields=[
    F("partition_index", I32), F("partition_error_code", I16)])]
api(24, "AddPartitionsToTxn", 3,
    [F("transactions", "[]", "4+", fields=[
        F("transactional_id", S, "4+"), F("producer_id", I64, "4+"),
        F("producer_epoch", I16, "4+"), F("verify_only", B, "4+"),
        F("topics", "[]", "4+", fields=_TOPIC_PARTS)]),
     F("v3_and_below_transactional_id", S, "0-3"),
     F("v3_and_below_producer_id", I64, "0-3"),
     F("v3_and_below_producer_epoch", I16, "0-3"),
     F("v3_and_below_topics", "[]", "0-3", fields=_TOPIC_PARTS)],
    [F("throttle_time_ms", I32), F("error_code", I16, "4+"),
     F("results_by_transaction", "[]", "4+", fields=[
         F("transactional_id", S, "4+"), F("topic_results", "[]", "4+", fields=_APT_RESULT)]),
     F("results_by_topic_v3_and_below", "[]", "0-3", fields=_APT_RESULT)])
api(25, "AddOffsetsToTxn", 3,
    [F("transactional_id", S), F("producer_id", I64), F("producer_epoch", I16),
     F("group_id", S)],
    [F("throttle_time_ms", I32), F("error_code", I16)])
api(26, "EndTxn", 3,
    [F("transactional_id", S), F("producer_id", I64), F("producer_epoch", I16),
     F("committed", B)],
    [F("throttle_time_ms", I32), F("error_code", I16),
     F("producer_id", I64, "5+", default=-1), F("producer_epoch", I16, "5+", default=-1)])
api(28, "TxnOffsetCommit", 3,
    [F("transactional_id", S), F("group_id", S), F("producer_id", I64),
     F("producer_epoch", I16), F("generation_id", I32, "3+", default=-1),
     F("member_id", S, "3+"), F("group_instance_id", S, "3+", nullable="3+"),
     F("topics", "[]", fields=[
         F("name", S),
         F("partitions", "[]", fields=[
             F("partition_index", I32), F("committed_offset", I64),
             F("committed_leader_epoch", I32, "2+", default=-1),
             F("committed_metadata", S, nullable="0+")])])],
    [F("throttle_time_ms", I32),
     F("topics", "[]", fields=[
         F("name", S),
         F("partitions", "[]", fields=[F("partition_index", I32), F("error_code", I16)])])])
request_spec(65, 0, [F("transactional_ids", "[]string")])
request_spec(66, 0, [F("state_filters", "[]string"), F("producer_id_filters", "[]int64"),
                     F("duration_filter", I64, "1+", default=-1)])
request_spec(21, 2, [
    F("topics", "[]", fields=[
        F("name", S),
        F("partitions", "[]", fields=[F("partition_index", I32), F("offset", I64)])]),
    F("timeout_ms", I32, default=30000)])
_ACL_FILTER = [F("resource_type_filter", I8, default=1), F("resource_name_filter", S, nullable="0+"),
               F("pattern_type_filter", I8, "1+", default=1),
               F("principal_filter", S, nullable="0+"), F("host_filter", S, nullable="0+"),
               F("operation", I8, default=1), F("permission_type", I8, default=1)]
request_spec(29, 2, _ACL_FILTER)
request_spec(30, 2, [F("creations", "[]", fields=[
    F("resource_type", I8), F("resource_name", S), F("resource_pattern_type", I8, "1+"),
    F("principal", S), F("host", S), F("operation", I8), F("permission_type", I8)])])
request_spec(31, 2, [F("filters", "[]", fields=_ACL_FILTER)])
request_spec(33, 2, [
    F("resources", "[]", fields=[
        F("resource_type", I8), F("resource_name", S),
        F("configs", "[]", fields=[F("name", S), F("value", S, nullable="0+")])]),
    F("validate_only", B)])
request_spec(44, 1, [
    F("resources", "[]", fields=[
        F("resource_type", I8), F("resource_name", S),
        F("configs", "[]", fields=[F("name", S), F("config_operation", I8),
                                   F("value", S, nullable="0+")])]),
    F("validate_only", B)])
# SASL (test_sasl.py reads their answers)
request_spec(17, None, [F("mechanism", S)])
request_spec(36, 2, [F("auth_bytes", "bytes")])
request_spec(50, 0, [F("users", "[]", nullable="0+", fields=[F("name", S)])])
request_spec(51, 0, [
    F("deletions", "[]", fields=[F("name", S), F("mechanism", I8)]),
    F("upsertions", "[]", fields=[F("name", S), F("mechanism", I8), F("iterations", I32),
                                  F("salt", "bytes"), F("salted_password", "bytes")])])
