'use strict'
/*
 * Read a topic to its end with a KafkaJS group consumer.
 *
 * Job: { bootstrap, topic, groupId, readUncommitted, ends: { partition: offset } }
 * The consumer commits what it consumed; it stops once the group's
 * committed offset of every partition in ends has reached that offset, which
 * needs the consumer to step over the control records at the end of a
 * partition. Result: { records: [[partition, offset, value], ..],
 * committed: { partition: offset } }.
 */
const { client, run } = require('./common')

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

run(async job => {
  const kafka = client(job)
  const consumer = kafka.consumer({
    groupId: job.groupId,
    readUncommitted: job.readUncommitted,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200
  })
  const admin = kafka.admin()
  await admin.connect()
  await consumer.connect()
  const records = []
  let committed = {}
  try {
    await consumer.subscribe({ topic: job.topic, fromBeginning: true })
    /* Commit at every resolved offset: KafkaJS commits only while it
     * processes a fetch, and the last fetch may hold nothing but markers. */
    await consumer.run({
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        records.push([partition, Number(message.offset), message.value === null ? null : message.value.toString()])
      }
    })
    const deadline = Date.now() + (job.timeoutMs || 30000)
    for (;;) {
      const [offsets] = await admin.fetchOffsets({ groupId: job.groupId, topics: [job.topic] })
      committed = {}
      for (const p of offsets.partitions) committed[p.partition] = Number(p.offset)
      const done = Object.entries(job.ends).every(([p, end]) => committed[p] >= end)
      if (done || Date.now() > deadline) break
      await sleep(100)
    }
  } finally {
    await consumer.disconnect()
    await admin.disconnect()
  }
  return { records, committed }
})
