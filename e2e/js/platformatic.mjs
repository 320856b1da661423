/*
 * @platformatic/kafka 1.x against pg_kafka, driven by e2e/test_platformatic.py.
 * The job arrives as one JSON argument ({action, bootstrap, ...}); the
 * result leaves as one JSON line on stdout ({ok, result} or {ok: false,
 * error}). The client negotiates its versions from ApiVersions, so Fetch
 * runs at v13+ (topics by id) whenever the broker offers it.
 *
 * Actions:
 *   produce  {topic, messages: [{key, value, partition, headers}]}
 *            -> [{partition, offset}]
 *   group    {topic, partitions, groupId, members, count}: start `members`
 *            consumers of one classic group, wait until the group has
 *            spread every partition over them, produce `count` records
 *            round-robin over the partitions, and read until each record
 *            arrived -> {members: [{partitions, records}], produced}
 *   admin    {topic, partitions}: create the topic, read its metadata,
 *            produce three records, list its earliest and latest offsets,
 *            delete it, list topics again -> what each step returned
 */
import {
  Admin,
  Consumer,
  Producer,
  stringDeserializers,
  stringSerializers
} from '@platformatic/kafka'

const EARLIEST = -2n
const LATEST = -1n

function job () {
  if (process.argv.length < 3) throw new Error('usage: node platformatic.mjs <job-json>')
  return JSON.parse(process.argv[2])
}

function base (j, clientId) {
  return {
    clientId,
    bootstrapBrokers: [j.bootstrap],
    retries: 10,
    retryDelay: 200,
    timeout: 30000
  }
}

function sleep (ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/* Poll cond every 50 ms until it holds; fail after ms. */
async function until (what, ms, cond) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what)
    await sleep(50)
  }
}

async function produce (j) {
  const producer = new Producer({ ...base(j, 'pgk-e2e-platformatic-producer'), serializers: stringSerializers })
  try {
    const res = await producer.send({
      acks: -1,
      messages: j.messages.map(m => ({
        topic: j.topic,
        key: m.key,
        value: m.value,
        partition: m.partition,
        headers: m.headers || {}
      }))
    })
    return (res.offsets || []).map(o => ({ partition: o.partition, offset: Number(o.offset) }))
  } finally {
    await producer.close()
  }
}

function partitionsOf (consumer, topic) {
  const out = []
  for (const a of consumer.assignments || []) {
    if (a.topic === topic) out.push(...a.partitions)
  }
  return out.sort((x, y) => x - y)
}

async function group (j) {
  const members = []
  for (let i = 0; i < j.members; i++) {
    const consumer = new Consumer({
      ...base(j, 'pgk-e2e-platformatic-member-' + i),
      groupId: j.groupId,
      deserializers: stringDeserializers,
      sessionTimeout: 10000,
      heartbeatInterval: 500
    })
    const stream = await consumer.consume({
      topics: [j.topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: 100,
      maxWaitTime: 500
    })
    const m = { consumer, stream, records: [] }
    stream.on('data', msg => {
      m.records.push({
        owned: partitionsOf(consumer, j.topic),
        partition: msg.partition,
        offset: Number(msg.offset),
        key: msg.key,
        value: msg.value,
        headers: Object.fromEntries([...msg.headers].map(([k, v]) => [String(k), String(v)]))
      })
    })
    stream.on('error', e => { m.error = e })
    members.push(m)
  }
  /* Every partition assigned once, and every member holding some. */
  await until('the group to spread the partitions', 60000, () => {
    const all = members.flatMap(m => partitionsOf(m.consumer, j.topic))
    return new Set(all).size === j.partitions && all.length === j.partitions &&
      members.every(m => partitionsOf(m.consumer, j.topic).length > 0)
  })
  const messages = []
  for (let i = 0; i < j.count; i++) {
    messages.push({ key: 'k' + i, value: 'v' + i, partition: i % j.partitions, headers: { n: String(i) } })
  }
  const produced = await produce({ ...j, messages })
  await until('every record to arrive', 60000, () => {
    for (const m of members) if (m.error) throw m.error
    return members.reduce((n, m) => n + m.records.length, 0) >= j.count
  })
  const result = members.map(m => ({ partitions: partitionsOf(m.consumer, j.topic), records: m.records }))
  for (const m of members) await m.consumer.close(true)
  return { members: result, produced }
}

async function admin (j) {
  const a = new Admin(base(j, 'pgk-e2e-platformatic-admin'))
  try {
    const out = {}
    const created = await a.createTopics({ topics: [j.topic], partitions: j.partitions, replicas: 1 })
    out.created = created.map(t => ({ name: t.name, id: t.id, partitions: t.partitions }))
    const md = await a.metadata({ topics: [j.topic] })
    const t = md.topics.get(j.topic)
    out.metadata = { id: t.id, partitions: t.partitionsCount }
    await produce({ ...j, messages: [0, 1, 2].map(i => ({ key: 'a' + i, value: 'b' + i, partition: 0 })) })
    const listed = {}
    for (const [name, ts] of [['earliest', EARLIEST], ['latest', LATEST]]) {
      const res = await a.listOffsets({
        topics: [{ name: j.topic, partitions: [{ partitionIndex: 0, timestamp: ts }] }]
      })
      listed[name] = Number(res[0].partitions[0].offset)
    }
    out.offsets = listed
    await a.deleteTopics({ topics: [j.topic] })
    out.after_delete = (await a.listTopics()).includes(j.topic)
    return out
  } finally {
    await a.close()
  }
}

const actions = { produce, group, admin }

try {
  const j = job()
  const result = await actions[j.action](j)
  process.stdout.write(JSON.stringify({ ok: true, result }) + '\n')
  process.exit(0)
} catch (e) {
  process.stdout.write(JSON.stringify({
    ok: false,
    error: { name: e.name, message: e.message, code: e.code, errors: (e.errors || []).map(x => String(x)) }
  }) + '\n')
  process.exit(1)
}
