'use strict'
/*
 * Produce messages with a KafkaJS producer.
 *
 * Job: { bootstrap, topic, acks (-1|0|1), compression ("none"|"gzip"|"snappy"),
 *        batches: [[{ key, value, headers, partition, timestamp }, ...], ...] }
 * Keys, values and header values are strings or null. Each batch is one
 * producer.send() call. Result: the RecordMetadata list of every send.
 */
const { client, run, CompressionTypes } = require('./common')

const codecs = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy
}

run(async job => {
  if (!(job.compression in codecs)) {
    throw new Error(`unsupported compression ${job.compression}`)
  }
  const producer = client(job).producer({ allowAutoTopicCreation: false, idempotent: false })
  await producer.connect()
  try {
    const sends = []
    for (const batch of job.batches) {
      const messages = batch.map(m => {
        const msg = { key: m.key, value: m.value }
        if (m.headers) msg.headers = m.headers
        if (m.partition !== undefined) msg.partition = m.partition
        if (m.timestamp !== undefined) msg.timestamp = String(m.timestamp)
        return msg
      })
      sends.push(await producer.send({
        topic: job.topic,
        acks: job.acks === undefined ? -1 : job.acks,
        timeout: 30000,
        compression: codecs[job.compression],
        messages
      }))
    }
    return sends
  } finally {
    await producer.disconnect()
  }
})
