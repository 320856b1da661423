'use strict'
/*
 * Produce a numbered stream with an idempotent KafkaJS producer.
 *
 * Job: { bootstrap, topic, partition, count, perSend, maxInFlightRequests }
 * Values are "0" .. "count-1", sent in order in sends of perSend records,
 * one send at a time (KafkaJS numbers a partition's batches when it sends
 * them, so concurrent sends to one partition would reuse sequences).
 * Result: { sends, producerId, firstOffsets: [baseOffset of every send] }.
 */
const { client, run } = require('./common')

run(async job => {
  const kafka = client(Object.assign({ retries: 20 }, job))
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: job.maxInFlightRequests
  })
  await producer.connect()
  try {
    const firstOffsets = []
    for (let i = 0; i < job.count; i += job.perSend) {
      const messages = []
      for (let v = i; v < Math.min(i + job.perSend, job.count); v++) {
        messages.push({ value: String(v), partition: job.partition || 0 })
      }
      const res = await producer.send({ topic: job.topic, acks: -1, timeout: 30000, messages })
      firstOffsets.push(Number(res[0].baseOffset))
    }
    return { sends: firstOffsets.length, firstOffsets }
  } finally {
    await producer.disconnect()
  }
})
