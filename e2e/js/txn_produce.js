'use strict'
/*
 * Transactions with a KafkaJS transactional producer.
 *
 * Job: { bootstrap, topic, transactionalId,
 *        transactions: [{ end: "commit"|"abort", messages: [{ partition, key, value }] }] }
 * Each transaction is one producer.transaction(), one send of its messages
 * and then commit() or abort(). Result: the RecordMetadata of every send.
 */
const { client, run } = require('./common')

run(async job => {
  const producer = client(job).producer({
    allowAutoTopicCreation: false,
    transactionalId: job.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1
  })
  await producer.connect()
  try {
    const sends = []
    for (const t of job.transactions) {
      const txn = await producer.transaction()
      sends.push(await txn.send({ topic: job.topic, acks: -1, messages: t.messages }))
      if (t.end === 'commit') {
        await txn.commit()
      } else {
        await txn.abort()
      }
    }
    return sends
  } finally {
    await producer.disconnect()
  }
})
