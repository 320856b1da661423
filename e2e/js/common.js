'use strict'
/*
 * Shared plumbing for the KafkaJS scripts the e2e tests run with node:
 * the job description arrives as one JSON argument, the result leaves as one
 * JSON line on stdout, and every KafkaJS log line goes to stderr so that
 * stdout stays machine-readable.
 */
const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec

const stderrLogger = () => ({ namespace, level, label, log }) => {
  const { message, ...extra } = log
  process.stderr.write(`[kafkajs ${label}] ${namespace}: ${message} ${JSON.stringify(extra)}\n`)
}

function readJob () {
  if (process.argv.length < 3) {
    throw new Error('usage: node <script> <job-json>')
  }
  return JSON.parse(process.argv[2])
}

/* Optional TLS and SASL: job.ca (a CA file to trust) and job.sasl
 * ({ mechanism, username, password }, as KafkaJS takes it). */
function security (job) {
  const out = {}
  if (job.ca) out.ssl = { ca: [require('fs').readFileSync(job.ca)] }
  if (job.sasl) out.sasl = job.sasl
  return out
}

function client (job) {
  return new Kafka({
    ...security(job),
    clientId: job.clientId || 'pgk-e2e-kafkajs',
    brokers: [job.bootstrap],
    logLevel: logLevel.WARN,
    logCreator: stderrLogger,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: job.retries === undefined ? 5 : job.retries, initialRetryTime: 200 }
  })
}

/* An error as plain data the tests can assert on. */
function describeError (e) {
  const out = { name: e.name, message: e.message }
  if (e.type) out.type = e.type
  if (e.code !== undefined) out.code = e.code
  if (e.errors) out.errors = e.errors.map(describeError)
  if (e.originalError) out.originalError = describeError(e.originalError)
  return out
}

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

/* Run main(job) and print its result; exit 1 with the error as JSON on failure. */
function run (main) {
  let job
  try {
    job = readJob()
  } catch (e) {
    emit({ ok: false, error: describeError(e) })
    process.exit(2)
  }
  main(job).then(
    result => { emit({ ok: true, result }); process.exit(0) },
    e => { emit({ ok: false, error: describeError(e) }); process.exit(1) }
  )
}

/*
 * Run job.steps ({ op, args }) in order on one admin client. Each step gives
 * { ok, value } (value passed through present) or { ok: false, error }; a
 * failing step does not stop the following ones. prepare(op, args) may
 * rewrite a step's arguments.
 */
function runAdminSteps (allowed, prepare, present) {
  run(async job => {
    const admin = client(job).admin()
    await admin.connect()
    try {
      const results = []
      for (const step of job.steps) {
        if (!allowed.has(step.op)) {
          throw new Error(`unknown admin op ${step.op}`)
        }
        try {
          const value = await admin[step.op](...prepare(step.op, step.args || []))
          results.push({ ok: true, value: value === undefined ? null : present(value) })
        } catch (e) {
          results.push({ ok: false, error: describeError(e) })
        }
      }
      return results
    } finally {
      await admin.disconnect()
    }
  })
}

module.exports = { client, describeError, emit, run, runAdminSteps, CompressionTypes }
