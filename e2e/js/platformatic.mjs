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
 *   group848 {topic, partitions, groupId, count}: the consumer group
 *            protocol (KIP-848, groupProtocol 'consumer'): two members
 *            split the partitions, a third joins, then leaves; `count`
 *            records are produced in three rounds, one per phase, and read
 *            with commits. Ownership is sampled every 10 ms to catch a
 *            partition held by two members at once; records of a partition
 *            a member no longer owns are dropped, as the Java client drops
 *            them -> {phases: [[partitions of each member]], overlaps,
 *            members: [{records, discarded}], produced}
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
    const m = { consumer, stream, records: [], discarded: 0 }
    stream.on('data', msg => {
      const owned = partitionsOf(consumer, j.topic)
      /* A fetch sent before a rebalance may answer after it, and this client
       * hands over its records even of partitions it no longer holds (the
       * Java client drops them): not this member's to consume. */
      if (!owned.includes(msg.partition)) {
        m.discarded++
        return
      }
      m.records.push({
        owned,
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
    const distinct = new Set(members.flatMap(m => m.records.map(r => r.partition + ':' + r.offset)))
    return distinct.size >= j.count
  })
  const result = members.map(m => ({ partitions: partitionsOf(m.consumer, j.topic), records: m.records, discarded: m.discarded }))
  for (const m of members) await m.consumer.close(true)
  return { members: result, produced }
}

function consumer848 (j, i) {
  return new Consumer({
    ...base(j, 'pgk-e2e-platformatic-848-' + i),
    groupId: j.groupId,
    groupProtocol: 'consumer',
    deserializers: stringDeserializers,
    sessionTimeout: 45000,
    heartbeatInterval: 500
  })
}

async function group848 (j) {
  const members = []
  const overlaps = []
  const phases = []
  async function start (i) {
    const consumer = consumer848(j, i)
    const stream = await consumer.consume({
      topics: [j.topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: 100,
      maxWaitTime: 200
    })
    const m = { consumer, stream, records: [], discarded: 0, active: true }
    stream.on('data', msg => {
      const owned = partitionsOf(consumer, j.topic)
      /* A fetch sent before a revocation may answer after it: its records
       * of partitions the member gave up are not its to consume (the Java
       * client drops them too; this client hands them over). */
      if (!owned.includes(msg.partition)) {
        m.discarded++
        return
      }
      m.records.push({
        owned,
        partition: msg.partition,
        offset: Number(msg.offset),
        key: msg.key,
        value: msg.value
      })
    })
    stream.on('error', e => { m.error = e })
    members.push(m)
    return m
  }
  const active = () => members.filter(m => m.active)
  /* No partition in two members' assignments at any sample. */
  const sampler = setInterval(() => {
    const seen = new Map()
    for (const [i, m] of members.entries()) {
      if (!m.active) continue
      for (const p of partitionsOf(m.consumer, j.topic)) {
        if (seen.has(p)) overlaps.push({ partition: p, members: [seen.get(p), i] })
        seen.set(p, i)
      }
    }
  }, 10)
  const spread = want => () => {
    for (const m of members) if (m.error) throw m.error
    const held = active().map(m => partitionsOf(m.consumer, j.topic))
    const all = held.flat()
    return all.length === j.partitions && new Set(all).size === j.partitions &&
      held.map(h => h.length).sort().join(',') === want.slice().sort().join(',')
  }
  const third = Math.floor(j.count / 3)
  let next = 0
  const produced = []
  async function round (n) {
    const messages = []
    for (let k = 0; k < n; k++, next++) {
      messages.push({ key: 'k' + next, value: 'v' + next, partition: next % j.partitions })
    }
    produced.push(...await produce({ ...j, messages }))
    await until('every record so far to arrive', 60000, () => {
      for (const m of members) if (m.error) throw m.error
      const got = new Set(members.flatMap(m => m.records.map(r => r.key)))
      return got.size >= next
    })
  }
  try {
    await start(0)
    await start(1)
    const half = j.partitions / 2
    await until('two members to split the partitions', 60000, spread([half, half]))
    phases.push(active().map(m => partitionsOf(m.consumer, j.topic)))
    await round(third)
    await start(2)
    const a = Math.ceil(j.partitions / 3)
    const c = j.partitions - 2 * a
    await until('the third member to get its share', 60000, spread([a, a, c]))
    phases.push(active().map(m => partitionsOf(m.consumer, j.topic)))
    await round(third)
    const leaving = members[2]
    await leaving.consumer.close(true)
    leaving.active = false
    await until('the two members left to take every partition', 60000, spread([half, half]))
    phases.push(active().map(m => partitionsOf(m.consumer, j.topic)))
    await round(j.count - 2 * third)
    /* What is consumed is committed before the members leave. */
    await sleep(300)
  } finally {
    clearInterval(sampler)
    for (const m of active()) await m.consumer.close(true)
  }
  return {
    phases,
    overlaps,
    members: members.map(m => ({ records: m.records, discarded: m.discarded })),
    produced
  }
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

const actions = { produce, group, group848, admin }

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
