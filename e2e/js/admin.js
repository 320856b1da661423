'use strict'
/*
 * Run a list of KafkaJS admin operations in order on one admin client.
 *
 * Job: { bootstrap, steps: [{ op, args }] } where op is an admin method name
 * (createTopics, deleteTopics, createPartitions, fetchTopicOffsets,
 * fetchTopicOffsetsByTimestamp, fetchTopicMetadata, listTopics,
 * describeConfigs, describeCluster, alterConfigs, deleteTopicRecords). args is
 * an array of arguments; in describeConfigs and alterConfigs resources, type
 * may be given as "TOPIC" or "BROKER".
 * Result: one { ok, value | error } per step; a failing step does not stop
 * the following ones.
 */
const { ConfigResourceTypes } = require('kafkajs')
const { runAdminSteps } = require('./common')

const allowed = new Set([
  'createTopics', 'deleteTopics', 'createPartitions', 'fetchTopicOffsets',
  'fetchTopicOffsetsByTimestamp', 'fetchTopicMetadata', 'listTopics',
  'describeConfigs', 'describeCluster', 'alterConfigs', 'deleteTopicRecords'
])

function fixArgs (op, args) {
  if (op === 'describeConfigs' || op === 'alterConfigs') {
    const spec = { ...args[0] }
    spec.resources = spec.resources.map(r => ({
      ...r,
      type: typeof r.type === 'string' ? ConfigResourceTypes[r.type] : r.type
    }))
    return [spec]
  }
  return args
}

runAdminSteps(allowed, fixArgs, value => value)
