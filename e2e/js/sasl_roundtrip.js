'use strict'
/*
 * Produce, consume with a consumer group, and an admin call, on one
 * (SASL) connection setup: what a KafkaJS application does first.
 *
 * Job: { bootstrap, ca, sasl: { mechanism, username, password }, topic,
 *        groupId, count }
 * Result: { topics: [names the admin client lists], values: [consumed] }
 */
const { client, run } = require('./common')

async function main (job) {
  const kafka = client(job)
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: job.topic, numPartitions: 1 }] })
  const topics = await admin.listTopics()
  await admin.disconnect()

  const producer = kafka.producer()
  await producer.connect()
  const messages = []
  for (let i = 0; i < job.count; i++) messages.push({ key: `k${i}`, value: `v${i}` })
  await producer.send({ topic: job.topic, messages })
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: job.groupId, maxWaitTimeInMs: 200 })
  await consumer.connect()
  await consumer.subscribe({ topic: job.topic, fromBeginning: true })
  const values = []
  await new Promise((resolve, reject) => {
    consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value.toString())
        if (values.length === job.count) resolve()
      }
    }).catch(reject)
  })
  await consumer.disconnect()
  return { topics: topics.filter(t => t === job.topic), values }
}

run(main)
