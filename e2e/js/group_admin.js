'use strict'
/*
 * KafkaJS admin calls about consumer groups, in order, on one admin client.
 *
 * Job: { bootstrap, steps: [{ op, args }] } where op is one of listGroups,
 * describeGroups, fetchOffsets, resetOffsets, setOffsets or deleteGroups,
 * and args are the method's arguments.
 * Result: one { ok, value | error } per step; a failing step does not stop
 * the following ones.
 */
const { runAdminSteps } = require('./common')

const allowed = new Set([
  'listGroups', 'describeGroups', 'fetchOffsets', 'resetOffsets', 'setOffsets', 'deleteGroups'
])

/* Buffers (member metadata and assignments) as their length: enough to
 * check they were passed through, and JSON-friendly. */
function plain (value) {
  return JSON.parse(JSON.stringify(value, (k, v) => {
    if (v && v.type === 'Buffer' && Array.isArray(v.data)) return { bytes: v.data.length }
    return v
  }))
}

runAdminSteps(allowed, (op, args) => args, plain)
