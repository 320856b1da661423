'use strict'
/*
 * One KafkaJS consumer group member that runs until it is stopped.
 *
 * Job: { bootstrap, topic, groupId, clientId, sessionTimeout, heartbeatInterval,
 *        rebalanceTimeout }
 * Every event is one JSON line on stdout, as it happens:
 *   { event: "assign", partitions: [..], generationId, memberId, leaderId }
 *       after each rebalance (the full assignment: KafkaJS is eager)
 *   { event: "records", records: [[partition, offset, value], ..] }
 *       a batch, printed before its offsets are committed
 *   { event: "closed" } after SIGTERM: the consumer committed, left the
 *       group and disconnected
 *   { event: "error", error } on a crash
 * SIGKILL is the way to make it vanish without leaving.
 */
const { client, describeError, emit } = require('./common')

async function main (job) {
  const consumer = client(job).consumer({
    groupId: job.groupId,
    sessionTimeout: job.sessionTimeout || 6000,
    heartbeatInterval: job.heartbeatInterval || 500,
    rebalanceTimeout: job.rebalanceTimeout || 10000,
    maxWaitTimeInMs: 200,
    retry: { retries: 10, initialRetryTime: 100 }
  })
  consumer.on(consumer.events.GROUP_JOIN, e => {
    const mine = e.payload.memberAssignment[job.topic] || []
    emit({
      event: 'assign',
      partitions: [...mine].sort((a, b) => a - b),
      generationId: e.payload.generationId,
      memberId: e.payload.memberId,
      leaderId: e.payload.leaderId
    })
  })
  consumer.on(consumer.events.CRASH, e => {
    emit({ event: 'error', error: describeError(e.payload.error) })
  })

  let stopping = false
  process.on('SIGTERM', async () => {
    if (stopping) return
    stopping = true
    try {
      await consumer.disconnect()
      emit({ event: 'closed' })
      process.exit(0)
    } catch (e) {
      emit({ event: 'error', error: describeError(e) })
      process.exit(1)
    }
  })

  await consumer.connect()
  await consumer.subscribe({ topic: job.topic, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
      const records = []
      for (const m of batch.messages) {
        if (!isRunning()) break
        records.push([batch.partition, Number(m.offset), m.value === null ? null : m.value.toString()])
        resolveOffset(m.offset)
      }
      if (records.length === 0) return
      emit({ event: 'records', records })
      /* Commit what was printed before anything else happens, so that a
       * member that stops cleanly hands over exactly where it was. */
      const next = String(Number(records[records.length - 1][1]) + 1)
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }])
      await heartbeat()
    }
  })
}

let job
try {
  job = JSON.parse(process.argv[2])
} catch (e) {
  emit({ event: 'error', error: describeError(e) })
  process.exit(2)
}
main(job).catch(e => {
  emit({ event: 'error', error: describeError(e) })
  process.exit(1)
})
