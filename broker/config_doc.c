/*
 * What DescribeConfigs answers as a config's documentation when asked for it
 * (include_documentation, v3+): one sentence per config pg_kafka reports,
 * saying what it does here.
 */
#include <string.h>

#include "config_doc.h"

static const struct {
	const char *name, *doc;
} docs[] = {
	/* topic configs */
	{"cleanup.policy", "How old records are discarded: delete (by retention), compact (the "
			   "latest record per key is kept), or both, enforced by the "
			   "storage job; a compacted topic refuses records without a key."},
	{"compression.type", "The codec records are stored with (a topic's own, else the "
			     "broker's): producer keeps each batch's own; uncompressed, gzip, "
			     "snappy, lz4 or zstd."},
	{"delete.retention.ms", "How long a tombstone of a compacted topic is kept after "
				"compaction left it as its key's latest record."},
	{"max.compaction.lag.ms", "The longest a record may stay uncompacted: a segment this old "
				  "is rolled, so the next compaction pass takes it."},
	{"max.message.bytes", "The largest record batch, in bytes, a producer may write to this "
			      "topic (after compression)."},
	{"message.timestamp.after.max.ms", "How far in the future a CreateTime record timestamp "
					   "may be, in milliseconds after the broker's clock."},
	{"message.timestamp.before.max.ms", "How far in the past a CreateTime record timestamp "
					    "may be, in milliseconds before the broker's clock."},
	{"message.timestamp.type", "CreateTime keeps the producer's timestamp; LogAppendTime "
				   "replaces it with the time the broker stored the record."},
	{"min.compaction.lag.ms", "The minimum age of a record before compaction may remove it, "
				  "counted from the newest record of its segment."},
	{"min.insync.replicas", "The replicas that must hold a write acknowledged with acks=all; "
				"a PostgreSQL commit is the only replica here."},
	{"retention.bytes", "The size a partition may grow to before old records are deleted; "
			    "-1 for no limit; whole segments go."},
	{"retention.ms", "How long records are kept, in milliseconds, counted from the newest "
			 "record of their segment; -1 for ever."},
	{"segment.bytes", "The size of a log segment; a batch larger than this is refused."},
	{"segment.ms", "How long before a log segment is rolled, at the storage job's next pass."},
	{"unclean.leader.election.enable", "Whether a replica that is not in sync may become "
					   "leader; there are no such replicas here."},
	/* broker configs */
	{"broker.id", "This broker's id (node.id)."},
	{"node.id", "This broker's id in Metadata and FindCoordinator answers."},
	{"listeners", "The addresses and security protocols this broker listens on."},
	{"advertised.listeners", "The addresses clients are told to connect to, per listener."},
	{"num.partitions", "Partitions of a topic created without a count (auto-creation, "
			   "CreateTopics with -1)."},
	{"auto.create.topics.enable", "Whether Metadata and Produce create a topic that does not "
				      "exist."},
	{"message.max.bytes", "The default max.message.bytes of topics that do not set it."},
	{"socket.request.max.bytes", "The largest request, in bytes, the broker reads."},
	{"fetch.max.bytes", "The most bytes one Fetch answer carries."},
	{"default.replication.factor", "The replication factor of auto-created topics."},
	{"log.message.timestamp.type", "The default message.timestamp.type of topics."},
	/* group configs */
	{"consumer.heartbeat.interval.ms", "Heartbeat interval of members of consumer-protocol "
					   "groups."},
	{"consumer.session.timeout.ms", "Session timeout of members of consumer-protocol groups."},
	{"share.heartbeat.interval.ms", "Heartbeat interval of members of share groups."},
	{"share.record.lock.duration.ms", "How long a share group member holds a record it was "
					  "given."},
	{"share.session.timeout.ms", "Session timeout of members of share groups."},
};

const char *config_documentation(const char *name)
{
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		if (strcmp(docs[i].name, name) == 0)
			return docs[i].doc;
	return NULL;
}
