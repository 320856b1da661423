'use strict'
/*
 * KafkaJS's ACL admin operations, in order on one admin client.
 *
 * Job: { bootstrap, steps: [{ op, args }] } where op is createAcls,
 * describeAcls or deleteAcls, and the enums in args (resourceType,
 * resourcePatternType, operation, permissionType) are given by name
 * ("TOPIC", "PREFIXED", "WRITE", "ALLOW") and turned into KafkaJS's codes;
 * answers come back with names too. Result: one { ok, value | error } per
 * step; a failing step does not stop the following ones.
 */
const {
  AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes
} = require('kafkajs')
const { runAdminSteps } = require('./common')

const allowed = new Set(['createAcls', 'describeAcls', 'deleteAcls'])

const enums = {
  resourceType: AclResourceTypes,
  resourcePatternType: ResourcePatternTypes,
  operation: AclOperationTypes,
  permissionType: AclPermissionTypes
}

function toCodes (obj) {
  const out = { ...obj }
  for (const [field, table] of Object.entries(enums)) {
    if (typeof out[field] === 'string') out[field] = table[out[field]]
  }
  return out
}

function nameOf (table, code) {
  return Object.keys(table).find(k => table[k] === code) || code
}

function toNames (value) {
  if (Array.isArray(value)) return value.map(toNames)
  if (value === null || typeof value !== 'object') return value
  const out = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = enums[k] && typeof v === 'number' ? nameOf(enums[k], v) : toNames(v)
  }
  return out
}

function fixArgs (op, args) {
  const spec = { ...args[0] }
  if (op === 'createAcls') spec.acl = spec.acl.map(toCodes)
  if (op === 'deleteAcls') spec.filters = spec.filters.map(toCodes)
  if (op === 'describeAcls') return [toCodes(spec)]
  return [spec]
}

runAdminSteps(allowed, fixArgs, toNames)
