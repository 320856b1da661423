'use strict'
/*
 * Produce a numbered stream with an idempotent KafkaJS producer at acks=all
 * until stdin closes, reporting every send as it happens (for the fault
 * injection tests, e2e/test_chaos.py).
 *
 * Job: { bootstrap, topic, partition, prefix, perSend }
 * Values are "<prefix>-<n>", sent in order in sends of perSend records, one
 * send at a time (KafkaJS numbers a partition's batches when it sends them).
 * Each send prints one JSON line on stdout before it starts,
 *   { "event": "sending", "values": [...] }
 * and one when it ends,
 *   { "event": "acked", "values": [...], "baseOffset": n } or
 *   { "event": "failed", "values": [...], "error": "..." }.
 * When stdin closes, the send in progress finishes and the script prints the
 * usual result line: { ok, result: { sends } }.
 */
const { client, run } = require('./common')

run(async job => {
  let stopping = false
  process.stdin.on('end', () => { stopping = true })
  process.stdin.on('error', () => { stopping = true })
  process.stdin.resume()

  const emit = obj => process.stdout.write(JSON.stringify(obj) + '\n')
  // Outages last seconds: keep retrying well past them (about two minutes).
  const kafka = client(Object.assign({ retries: 60 }, job))
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 60, initialRetryTime: 200, maxRetryTime: 2000 }
  })
  await producer.connect()
  let sends = 0
  try {
    for (let n = 0; !stopping; n += job.perSend) {
      const values = []
      for (let v = n; v < n + job.perSend; v++) values.push(`${job.prefix}-${v}`)
      emit({ event: 'sending', values })
      try {
        const res = await producer.send({
          topic: job.topic,
          acks: -1,
          timeout: 30000,
          messages: values.map(value => ({ key: value, value, partition: job.partition }))
        })
        emit({ event: 'acked', values, baseOffset: Number(res[0].baseOffset) })
      } catch (e) {
        emit({ event: 'failed', values, error: String(e && e.message) })
      }
      sends++
    }
    return { sends }
  } finally {
    await producer.disconnect()
  }
})
