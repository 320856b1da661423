"""
A small hand-written Kafka wire-protocol encoder/decoder for the raw-socket
tests: just enough of ApiVersions, Produce, CreateTopics and ListOffsets to
send well-formed and deliberately broken requests and to read the answers.

It is test code: it trusts nothing the broker sends back (every read is
bounds-checked and raises ProtocolError), and it builds v2 record batches and
magic v1 message sets byte by byte so that the tests can corrupt them.
"""

import socket
import struct
import time

# API keys used here.
PRODUCE = 0
FETCH = 1
LIST_OFFSETS = 2
METADATA = 3
API_VERSIONS = 18
CREATE_TOPICS = 19

# Error codes (names as in the Kafka protocol).
NONE = 0
CORRUPT_MESSAGE = 2
INVALID_TOPIC_EXCEPTION = 17
UNSUPPORTED_VERSION = 35
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_RECORD = 87


class ProtocolError(Exception):
    """The bytes received do not form the expected message."""


# --------------------------------------------------------------------------
# CRC-32C (Castagnoli), the checksum of v2 record batches. zlib.crc32 is the
# IEEE polynomial and is only right for the magic v0/v1 message format.

def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --------------------------------------------------------------------------
# Primitive writer / reader.

class Writer:
    def __init__(self):
        self.parts = []

    def raw(self, b):
        self.parts.append(bytes(b))
        return self

    def i8(self, v):
        return self.raw(struct.pack(">b", v))

    def i16(self, v):
        return self.raw(struct.pack(">h", v))

    def i32(self, v):
        return self.raw(struct.pack(">i", v))

    def u32(self, v):
        return self.raw(struct.pack(">I", v))

    def i64(self, v):
        return self.raw(struct.pack(">q", v))

    def boolean(self, v):
        return self.i8(1 if v else 0)

    def uvarint(self, v):
        out = bytearray()
        while True:
            byte = v & 0x7F
            v >>= 7
            if v:
                out.append(byte | 0x80)
            else:
                out.append(byte)
                return self.raw(out)

    def varint(self, v):
        # zigzag, 64-bit
        return self.uvarint((v << 1) ^ (v >> 63))

    def string(self, s, compact=False):
        """A (nullable) string; None encodes as null."""
        if s is None:
            return self.uvarint(0) if compact else self.i16(-1)
        b = s.encode() if isinstance(s, str) else bytes(s)
        if compact:
            self.uvarint(len(b) + 1)
        else:
            self.i16(len(b))
        return self.raw(b)

    def bytes_(self, b, compact=False):
        if b is None:
            return self.uvarint(0) if compact else self.i32(-1)
        if compact:
            self.uvarint(len(b) + 1)
        else:
            self.i32(len(b))
        return self.raw(b)

    def array(self, items, fn, compact=False):
        if items is None:
            return self.uvarint(0) if compact else self.i32(-1)
        if compact:
            self.uvarint(len(items) + 1)
        else:
            self.i32(len(items))
        for it in items:
            fn(self, it)
        return self

    def tags(self):
        """An empty tagged-field section."""
        return self.uvarint(0)

    def getvalue(self):
        return b"".join(self.parts)


class Reader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolError(
                "short read: need %d bytes at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def boolean(self):
        return self.i8() != 0

    def uvarint(self):
        shift = 0
        value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise ProtocolError("varint too long")

    def varint(self):
        u = self.uvarint()
        return (u >> 1) ^ -(u & 1)

    def string(self, compact=False):
        if compact:
            n = self.uvarint() - 1
        else:
            n = self.i16()
        if n < 0:
            return None
        return self.take(n).decode("utf-8", "replace")

    def bytes_(self, compact=False):
        n = self.uvarint() - 1 if compact else self.i32()
        if n < 0:
            return None
        return self.take(n)

    def array(self, fn, compact=False):
        n = self.uvarint() - 1 if compact else self.i32()
        if n < 0:
            return None
        if n > self.remaining():
            raise ProtocolError("array count %d exceeds remaining bytes" % n)
        return [fn(self) for _ in range(n)]

    def tags(self):
        """Skip a tagged-field section, returning {tag: bytes}."""
        out = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            out[tag] = self.take(self.uvarint())
        return out


# --------------------------------------------------------------------------
# Frames.

def request_header(api_key, api_version, correlation_id, client_id="pgk-e2e",
                   header_version=1):
    w = Writer().i16(api_key).i16(api_version).i32(correlation_id)
    if header_version >= 1:
        w.string(client_id)  # never compact, even in header v2
    if header_version >= 2:
        w.tags()
    return w.getvalue()


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def request_frame(api_key, api_version, correlation_id, body=b"",
                  header_version=1, client_id="pgk-e2e"):
    return frame(request_header(api_key, api_version, correlation_id,
                                client_id, header_version) + body)


class Conn:
    """One TCP connection to the broker, speaking length-prefixed frames."""

    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.local_addr = "%s:%d" % self.sock.getsockname()[:2]
        self.next_corr = 1
        self.client_id = "pgk-e2e"  # in every request header sent

    @classmethod
    def to(cls, bootstrap, timeout=10.0):
        host, port = bootstrap.rsplit(":", 1)
        return cls(host, int(port), timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, api_key, api_version, body=b"", header_version=1):
        corr = self.next_corr
        self.next_corr += 1
        self.send_raw(request_frame(api_key, api_version, corr, body, header_version,
                                    self.client_id))
        return corr

    def _recv_exact(self, n, deadline):
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete frame from the broker")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise TimeoutError("no complete frame from the broker")
            if not chunk:
                if not buf:
                    return None
                raise ProtocolError("connection closed inside a frame")
            buf += chunk
        return bytes(buf)

    def recv_frame(self, timeout=10.0):
        """The next response frame without its size, or None on EOF."""
        deadline = time.monotonic() + timeout
        head = self._recv_exact(4, deadline)
        if head is None:
            return None
        (size,) = struct.unpack(">i", head)
        if size < 0 or size > 256 * 1024 * 1024:
            raise ProtocolError("bad response size %d" % size)
        body = self._recv_exact(size, deadline)
        if body is None:
            raise ProtocolError("connection closed inside a frame")
        return body

    def request(self, api_key, api_version, body=b"", header_version=1,
                response_header_version=0, timeout=10.0):
        """Send a request and return a Reader positioned on the response body."""
        corr = self.send(api_key, api_version, body, header_version)
        data = self.recv_frame(timeout)
        if data is None:
            raise ProtocolError("broker closed the connection instead of answering")
        r = Reader(data)
        got = r.i32()
        if got != corr:
            raise ProtocolError("correlation id %d, expected %d" % (got, corr))
        if response_header_version >= 1:
            r.tags()
        return r

    def wait_closed(self, timeout=10.0):
        """True if the broker closes the connection (EOF or reset) within
        timeout, discarding anything it sends first; False otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True


# --------------------------------------------------------------------------
# ApiVersions.

def api_versions_body(version):
    if version >= 3:
        return Writer().string("pgk-e2e", True).string("1.0", True).tags().getvalue()
    return b""


def api_versions_header_version(version):
    return 2 if version >= 3 else 1


def decode_api_versions(r, version):
    """-> (error_code, {api_key: (min, max)}). The response header is always
    v0; the body is flexible from v3."""
    flex = version >= 3
    error = r.i16()

    def entry(rr):
        key, lo, hi = rr.i16(), rr.i16(), rr.i16()
        if flex:
            rr.tags()
        return key, (lo, hi)

    apis = dict(r.array(entry, flex) or [])
    if version >= 1:
        r.i32()  # throttle_time_ms
    if flex:
        r.tags()
    return error, apis


def api_versions(conn, version=0):
    r = conn.request(API_VERSIONS, version, api_versions_body(version),
                     header_version=api_versions_header_version(version))
    return decode_api_versions(r, version)


# --------------------------------------------------------------------------
# Records: v2 record batches and magic v1 message sets.

def encode_record(offset_delta, key, value, headers=(), timestamp_delta=0):
    body = Writer().i8(0).varint(timestamp_delta).varint(offset_delta)
    for blob in (key, value):
        if blob is None:
            body.varint(-1)
        else:
            body.varint(len(blob)).raw(blob)
    body.varint(len(headers))
    for hk, hv in headers:
        hk = hk.encode() if isinstance(hk, str) else hk
        body.varint(len(hk)).raw(hk)
        if hv is None:
            body.varint(-1)
        else:
            body.varint(len(hv)).raw(hv)
    b = body.getvalue()
    return Writer().varint(len(b)).raw(b).getvalue()


def record_batch(records, first_timestamp=None, attributes=0):
    """A v2 record batch (uncompressed) with a correct CRC-32C.
    records: list of (key, value, headers) tuples, or (key, value, headers,
    timestamp_delta) for a record whose timestamp is not the first one."""
    if first_timestamp is None:
        first_timestamp = int(time.time() * 1000)
    recs = b"".join(encode_record(i, *r) for i, r in enumerate(records))
    # Everything after the crc field: the bytes the CRC covers.
    after_crc = (Writer()
                 .i16(attributes)
                 .i32(len(records) - 1)          # last_offset_delta
                 .i64(first_timestamp)
                 .i64(first_timestamp)           # max_timestamp
                 .i64(-1)                        # producer_id
                 .i16(-1)                        # producer_epoch
                 .i32(-1)                        # base_sequence
                 .i32(len(records))
                 .raw(recs)
                 .getvalue())
    crc = crc32c(after_crc)
    # batch_length counts from partition_leader_epoch to the end.
    batch_length = 4 + 1 + 4 + len(after_crc)
    return (Writer()
            .i64(0)                  # base_offset
            .i32(batch_length)
            .i32(-1)                 # partition_leader_epoch
            .i8(2)                   # magic
            .u32(crc)
            .raw(after_crc)
            .getvalue())


# Offset of the first record byte inside a batch built by record_batch:
# 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4 = 61.
RECORD_BATCH_HEADER_SIZE = 61


def legacy_message_set(key, value, magic=1, timestamp=None):
    """A one-message legacy message set (magic 0 or 1) with the IEEE CRC-32
    those formats use."""
    import zlib
    if timestamp is None:
        timestamp = int(time.time() * 1000)
    w = Writer().i8(magic).i8(0)
    if magic >= 1:
        w.i64(timestamp)
    msg = w.bytes_(key).bytes_(value).getvalue()
    crc = zlib.crc32(msg) & 0xFFFFFFFF
    message = Writer().u32(crc).raw(msg).getvalue()
    return Writer().i64(0).i32(len(message)).raw(message).getvalue()


# --------------------------------------------------------------------------
# Produce (v3 classic, v9 flexible), single topic-partition.

def produce_body(version, topic, partition, records, acks=-1, timeout_ms=10000):
    """From v13 topic is the topic's 16-byte id."""
    flex = version >= 9
    w = Writer().string(None, flex).i16(acks).i32(timeout_ms)

    def part(ww, _):
        ww.i32(partition).bytes_(records, flex)
        if flex:
            ww.tags()

    def top(ww, _):
        if version >= 13:
            ww.raw(topic)
        else:
            ww.string(topic, flex)
        ww.array([None], part, flex)
        if flex:
            ww.tags()

    w.array([None], top, flex)
    if flex:
        w.tags()
    return w.getvalue()


def decode_produce(r, version):
    """-> {(topic, partition): {"error_code", "base_offset", ...}}; from v13
    topic is the id."""
    flex = version >= 9
    out = {}

    def part(rr, topic):
        p = {"partition": rr.i32(), "error_code": rr.i16(), "base_offset": rr.i64()}
        if version >= 2:
            p["log_append_time_ms"] = rr.i64()
        if version >= 5:
            p["log_start_offset"] = rr.i64()
        if version >= 8:
            def rec_err(r3):
                e = (r3.i32(), r3.string(flex))
                if flex:
                    r3.tags()
                return e
            p["record_errors"] = rr.array(rec_err, flex)
            p["error_message"] = rr.string(flex)
        p["current_leader"] = None
        if flex:
            tags = rr.tags()
            if 0 in tags:  # v10+: the leader of a NOT_LEADER_OR_FOLLOWER partition
                lr = Reader(tags[0])
                p["current_leader"] = (lr.i32(), lr.i32())
                lr.tags()
        out[(topic, p["partition"])] = p

    def top(rr):
        name = rr.take(16) if version >= 13 else rr.string(flex)
        rr.array(lambda r3: part(r3, name), flex)
        if flex:
            rr.tags()

    r.array(top, flex)
    r.i32()  # throttle_time_ms
    endpoints = []
    if flex:
        tags = r.tags()
        if 0 in tags:  # v10+: those leaders' addresses
            def endpoint(rr):
                e = (rr.i32(), rr.string(True), rr.i32(), rr.string(True))
                rr.tags()
                return e
            endpoints = Reader(tags[0]).array(endpoint, True)
    for p in out.values():
        p["node_endpoints"] = endpoints
    return out


def produce(conn, topic, partition, records, version=3, acks=-1, timeout=15.0):
    """From v13 a topic given by name is sent as its id (looked up on conn),
    an unknown name as an id no topic has."""
    if version >= 13 and isinstance(topic, str):
        topic = topic_id(conn, topic) or bytes(range(1, 17))
    body = produce_body(version, topic, partition, records, acks)
    r = conn.request(PRODUCE, version, body,
                     header_version=2 if version >= 9 else 1,
                     response_header_version=1 if version >= 9 else 0,
                     timeout=timeout)
    return decode_produce(r, version)[(topic, partition)]


# --------------------------------------------------------------------------
# CreateTopics v2 (classic).

def create_topics_body(topics, timeout_ms=10000, validate_only=False):
    """topics: list of (name, num_partitions, replication_factor, {config})."""
    def topic(w, t):
        name, parts, rf, configs = t
        w.string(name).i32(parts).i16(rf)
        w.array([], lambda ww, a: None)  # assignments
        w.array(sorted(configs.items()),
                lambda ww, kv: ww.string(kv[0]).string(kv[1]))

    w = Writer().array(topics, topic).i32(timeout_ms).boolean(validate_only)
    return w.getvalue()


def create_topics(conn, topics, validate_only=False, timeout=15.0):
    """-> {name: (error_code, error_message)}"""
    r = conn.request(CREATE_TOPICS, 2, create_topics_body(topics, validate_only=validate_only),
                     timeout=timeout)
    r.i32()  # throttle_time_ms
    res = r.array(lambda rr: (rr.string(), rr.i16(), rr.string()))
    return {name: (err, msg) for name, err, msg in res}


# --------------------------------------------------------------------------
# ListOffsets v7 (flexible): the only version with MAX_TIMESTAMP (-3).

EARLIEST = -2
LATEST = -1
MAX_TIMESTAMP = -3


def list_offsets(conn, topic, partition, timestamp, version=7, timeout=15.0,
                 timeout_ms=30000):
    """-> {"error_code", "timestamp", "offset"} for one partition."""
    flex = version >= 6
    w = Writer().i32(-1)  # replica_id
    if version >= 2:
        w.i8(0)           # isolation_level READ_UNCOMMITTED

    def part(ww, _):
        ww.i32(partition)
        if version >= 4:
            ww.i32(-1)    # current_leader_epoch
        ww.i64(timestamp)
        if flex:
            ww.tags()

    def top(ww, _):
        ww.string(topic, flex).array([None], part, flex)
        if flex:
            ww.tags()

    w.array([None], top, flex)
    if version >= 10:
        w.i32(timeout_ms)
    if flex:
        w.tags()
    r = conn.request(LIST_OFFSETS, version, w.getvalue(),
                     header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=timeout)
    if version >= 2:
        r.i32()  # throttle_time_ms
    result = {}

    def rpart(rr):
        p = {"partition": rr.i32(), "error_code": rr.i16(),
             "timestamp": rr.i64(), "offset": rr.i64()}
        if version >= 4:
            p["leader_epoch"] = rr.i32()
        if flex:
            rr.tags()
        result[p["partition"]] = p

    def rtop(rr):
        rr.string(flex)
        rr.array(rpart, flex)
        if flex:
            rr.tags()

    r.array(rtop, flex)
    return result[partition]


# --------------------------------------------------------------------------
# Metadata v12 (topic ids).

def metadata(conn, names=None, ids=None, version=12, timeout=15.0):
    """Topics by name (names) or by id (ids, 16-byte values), or every topic
    (neither) -> {"error_code", "brokers": [(node_id, host, port)], "topics":
    [{"error_code", "name", "topic_id", "partitions": [index, ...]}]} in answer
    order. v13 adds the top-level
    error code (0 before it)."""
    flex = version >= 9
    w = Writer()

    def topic(ww, t):
        if version >= 10:
            ww.raw(t[0])
        ww.string(t[1], flex)
        if flex:
            ww.tags()

    if names is None and ids is None:
        w.array(None if version >= 1 else [], topic, flex)
    else:
        items = [(b"\0" * 16, n) for n in names or []] + [(i, None) for i in ids or []]
        w.array(items, topic, flex)
    if version >= 4:
        w.boolean(False)     # allow_auto_topic_creation
    if 8 <= version <= 10:
        w.boolean(False)     # include_cluster_authorized_operations
    if version >= 8:
        w.boolean(False)     # include_topic_authorized_operations
    if flex:
        w.tags()
    r = conn.request(METADATA, version, w.getvalue(), header_version=2 if flex else 1,
                     response_header_version=1 if flex else 0, timeout=timeout)
    if version >= 3:
        r.i32()              # throttle_time_ms

    def broker(rr):
        b = (rr.i32(), rr.string(flex), rr.i32())
        if version >= 1:
            rr.string(flex)
        if flex:
            rr.tags()
        return b

    brokers = r.array(broker, flex)
    if version >= 2:
        r.string(flex)       # cluster_id
    if version >= 1:
        r.i32()              # controller_id

    def part(rr):
        rr.i16()
        index = rr.i32()
        rr.i32()
        if version >= 7:
            rr.i32()
        rr.array(lambda x: x.i32(), flex)
        rr.array(lambda x: x.i32(), flex)
        if version >= 5:
            rr.array(lambda x: x.i32(), flex)
        if flex:
            rr.tags()
        return index

    def top(rr):
        t = {"error_code": rr.i16(), "name": rr.string(flex), "topic_id": None}
        if version >= 10:
            t["topic_id"] = rr.take(16)
        if version >= 1:
            rr.boolean()
        t["partitions"] = rr.array(part, flex)
        if version >= 8:
            rr.i32()
        if flex:
            rr.tags()
        return t

    topics = r.array(top, flex)
    if 8 <= version <= 10:
        r.i32()
    error_code = r.i16() if version >= 13 else 0
    if flex:
        r.tags()
    return {"error_code": error_code, "topics": topics, "brokers": brokers}


def topic_id(conn, name):
    """The id of topic name, or None if there is no such topic."""
    t = metadata(conn, names=[name])["topics"][0]
    return t["topic_id"] if t["error_code"] == 0 else None


# --------------------------------------------------------------------------
# Fetch (v4 .. v17), single topic-partition, and a decoder for the record
# batches it returns. From v13 the topic is its 16-byte id.

def fetch_body(version, topic, partition, offset, max_wait_ms=500, min_bytes=1,
               max_bytes=52428800, partition_max_bytes=1048576, replica_id=-1,
               current_leader_epoch=-1, isolation_level=0):
    """replica_id >= 0 asks as that follower (from v15 in the ReplicaState
    tag); isolation_level 1 is read_committed."""
    flex = version >= 12
    w = Writer()
    if version <= 14:
        w.i32(replica_id)
    w.i32(max_wait_ms).i32(min_bytes).i32(max_bytes).i8(isolation_level)
    if version >= 7:
        w.i32(0).i32(-1)          # session_id, session_epoch: no fetch session

    def part(ww, _):
        ww.i32(partition)
        if version >= 9:
            ww.i32(current_leader_epoch)
        ww.i64(offset)
        if version >= 12:
            ww.i32(-1)            # last_fetched_epoch
        if version >= 5:
            ww.i64(-1)            # log_start_offset (followers only)
        ww.i32(partition_max_bytes)
        if flex:
            ww.tags()

    def top(ww, _):
        if version >= 13:
            ww.raw(topic)
        else:
            ww.string(topic, flex)
        ww.array([None], part, flex)
        if flex:
            ww.tags()

    w.array([None], top, flex)
    if version >= 7:
        w.array([], lambda ww, _: None, flex)   # forgotten_topics_data
    if version >= 11:
        w.string("", flex)                       # rack_id
    if version >= 15 and replica_id >= 0:
        state = Writer().i32(replica_id).i64(-1).tags().getvalue()   # ReplicaState
        w.uvarint(1).uvarint(1).uvarint(len(state)).raw(state)
    elif flex:
        w.tags()
    return w.getvalue()


def send_fetch(conn, version, topic, partition, offset, **kw):
    """Send a Fetch without waiting; read the answer with read_fetch. From
    v13 a topic given by name is sent as its id (looked up on conn), an
    unknown name as an id no topic has."""
    if version >= 13 and isinstance(topic, str):
        topic = topic_id(conn, topic) or bytes(range(1, 17))
    return conn.send(FETCH, version, fetch_body(version, topic, partition, offset, **kw),
                     header_version=2 if version >= 12 else 1)


def read_fetch(conn, corr, version, timeout=10.0):
    """-> {"error_code", "high_watermark", "last_stable_offset",
    "log_start_offset", "records": bytes or None, "top_error_code",
    "current_leader": (id, epoch) or None, "node_endpoints": [(id, host,
    port, rack)], "throttle_time_ms"} (current_leader and node_endpoints
    tagged, v12+ and v16+); a throttled answer has no partition: its
    error_code and records are None"""
    flex = version >= 12
    data = conn.recv_frame(timeout)
    if data is None:
        raise ProtocolError("broker closed the connection instead of answering")
    r = Reader(data)
    if r.i32() != corr:
        raise ProtocolError("unexpected correlation id")
    if flex:
        r.tags()
    throttle_ms = r.i32()
    top_error = 0
    if version >= 7:
        top_error = r.i16()
        r.i32()  # session_id
    parts = []

    def aborted(rr):
        x = (rr.i64(), rr.i64())
        if flex:
            rr.tags()
        return x

    def part(rr):
        p = {"partition": rr.i32(), "error_code": rr.i16(), "high_watermark": rr.i64(),
             "last_stable_offset": rr.i64(), "log_start_offset": None}
        if version >= 5:
            p["log_start_offset"] = rr.i64()
        p["aborted"] = rr.array(aborted, flex)
        if version >= 11:
            rr.i32()  # preferred_read_replica
        p["records"] = rr.bytes_(flex)
        p["current_leader"] = None
        if flex:
            tags = rr.tags()
            if 1 in tags:
                lr = Reader(tags[1])
                p["current_leader"] = (lr.i32(), lr.i32())
                lr.tags()
        parts.append(p)

    def top(rr):
        topic = rr.take(16) if version >= 13 else rr.string(flex)
        n = len(parts)
        rr.array(part, flex)
        for p in parts[n:]:
            p["topic"] = topic
        if flex:
            rr.tags()

    r.array(top, flex)
    endpoints = []
    if flex:
        tags = r.tags()
        if 0 in tags:
            def endpoint(rr):
                e = (rr.i32(), rr.string(True), rr.i32(), rr.string(True))
                rr.tags()
                return e
            endpoints = Reader(tags[0]).array(endpoint, True)
    if not parts:
        return {"top_error_code": top_error, "error_code": None, "records": None,
                "node_endpoints": endpoints, "throttle_time_ms": throttle_ms}
    p = parts[0]
    p["top_error_code"] = top_error
    p["node_endpoints"] = endpoints
    p["throttle_time_ms"] = throttle_ms
    return p


def fetch(conn, version, topic, partition, offset, timeout=10.0, **kw):
    corr = send_fetch(conn, version, topic, partition, offset, **kw)
    return read_fetch(conn, corr, version, timeout)


def decode_batches(data):
    """Records of the uncompressed v2 batches in data, as (offset, key,
    value) tuples; a partial batch at the end (allowed in Fetch) is ignored.
    Compressed batches appear as one ("compressed", base_offset, count) entry."""
    out = []
    r = Reader(data or b"")
    while r.remaining() >= 12:
        base = r.i64()
        length = r.i32()
        if length > r.remaining():
            break
        b = Reader(r.take(length))
        b.i32()                       # partition_leader_epoch
        if b.i8() != 2:
            raise ProtocolError("fetch returned a batch with magic != 2")
        b.take(4)                     # crc
        attributes = b.i16()
        b.i32()                       # last_offset_delta
        b.take(8 + 8 + 8 + 2 + 4)     # timestamps, producer id/epoch, sequence
        count = b.i32()
        if attributes & 7:
            out.append(("compressed", base, count))
            continue
        for _ in range(count):
            rec = Reader(b.take(b.varint()))
            rec.i8()
            rec.varint()              # timestamp delta
            delta = rec.varint()
            klen = rec.varint()
            key = rec.take(klen) if klen >= 0 else None
            vlen = rec.varint()
            value = rec.take(vlen) if vlen >= 0 else None
            out.append((base + delta, key, value))
    return out
