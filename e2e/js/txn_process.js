'use strict'
/*
 * Consume-transform-produce with KafkaJS: a group consumer reads the input
 * topic and, per batch, one transaction writes "out-<value>" to the output
 * topic (same partition) and commits the input offsets with sendOffsets.
 *
 * Job: { bootstrap, input, output, groupId, transactionalId, hangAfter }
 * (produce the input in small batches: every fetch returns one of them)
 * After hangAfter committed transactions (if given) the next one sends its
 * records, prints { event: "hanging" } and waits forever with the
 * transaction open, to be killed. Events are JSON lines on stdout:
 * { event: "committed", records: n } per transaction.
 */
const { client, describeError, emit } = require('./common')

async function main (job) {
  const kafka = client(job)
  const consumer = kafka.consumer({
    groupId: job.groupId,
    readUncommitted: false,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    rebalanceTimeout: 6000,
    maxWaitTimeInMs: 200,
    /* Small fetches: one input batch per fetch, so several transactions */
    maxBytesPerPartition: 256
  })
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    transactionalId: job.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1
  })
  await producer.connect()
  await consumer.connect()
  await consumer.subscribe({ topic: job.input, fromBeginning: true })
  let committed = 0
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (batch.messages.length === 0) return
      const txn = await producer.transaction()
      await txn.send({
        topic: job.output,
        acks: -1,
        messages: batch.messages.map(m => ({
          partition: batch.partition,
          key: m.key,
          value: 'out-' + m.value.toString()
        }))
      })
      if (job.hangAfter !== undefined && committed === job.hangAfter) {
        emit({ event: 'hanging' })
        await new Promise(() => {})
      }
      const next = String(Number(batch.lastOffset()) + 1)
      await txn.sendOffsets({
        consumerGroupId: job.groupId,
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }]
      })
      await txn.commit()
      committed++
      emit({ event: 'committed', records: batch.messages.length })
    }
  })
}

process.on('SIGTERM', () => process.exit(0))
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
