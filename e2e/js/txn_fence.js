'use strict'
/*
 * Fencing with KafkaJS: a transactional producer opens a transaction and
 * sends to it; a second producer with the same transactionalId connects
 * and begins a transaction (InitProducerId), which aborts that transaction
 * and fences the first;
 * the first's commit must then fail. The second commits a transaction of
 * its own.
 *
 * Job: { bootstrap, topic, transactionalId }
 * Result: { fenced: <the first commit's error, as data> }
 */
const { client, run, describeError } = require('./common')

function producer (job) {
  return client(Object.assign({}, job, { retries: 2 })).producer({
    allowAutoTopicCreation: false,
    transactionalId: job.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1
  })
}

run(async job => {
  const first = producer(job)
  const second = producer(job)
  await first.connect()
  try {
    const open = await first.transaction()
    await open.send({
      topic: job.topic,
      acks: -1,
      messages: [{ partition: 0, value: 'open-1' }, { partition: 1, value: 'open-1' }]
    })

    // KafkaJS sends a transactional InitProducerId when a producer begins
    // its first transaction, not at connect.
    await second.connect()
    const txn = await second.transaction()
    let fenced = null
    try {
      await open.commit()
    } catch (e) {
      fenced = describeError(e)
    }

    await txn.send({ topic: job.topic, acks: -1, messages: [{ partition: 0, value: 'from-2' }] })
    await txn.commit()
    return { fenced }
  } finally {
    await first.disconnect().catch(() => {})
    await second.disconnect()
  }
})
