/*
 * Feature levels: see feature_levels.h.
 *
 * metadata.version describes KRaft's metadata log, which pg_kafka does not
 * have (PostgreSQL is its source of truth); it is reported at 3.9-IV0
 * (21), the last level before Kafka 4.0's, so tools that read it see the
 * protocol generation pg_kafka serves. transaction.version is finalized
 * at 2, transactions v2 (KIP-890 part 2: EndTxn v5 bumps the epoch,
 * Produce v12+ adds its partition to the transaction), as Kafka 4.x
 * finalizes it. group.version is finalized at 1, the consumer group protocol
 * (KIP-848: ConsumerGroupHeartbeat), as Kafka 4.0 finalizes it.
 */
#include "feature_levels.h"

#include "arena_str.h"

const feature_level feature_levels[] = {
	{"metadata.version", 21, 21, 21},
	{"transaction.version", 0, 2, 2},
	{"group.version", 0, 1, 1},
};
const int feature_count = (int)(sizeof(feature_levels) / sizeof(feature_levels[0]));

bool feature_txn_v2(void)
{
	return feature_find(kstr_c("transaction.version"))->finalized >= 2;
}

const feature_level *feature_find(kstr name)
{
	for (int i = 0; i < feature_count; i++)
		if (kstr_eq(name, feature_levels[i].name))
			return &feature_levels[i];
	return NULL;
}

void features_fill(arena *a, int16_t ver, api_versions_resp *resp)
{
	api_versions_resp_supported_feature *sup =
		ARENA_NEW_ARRAY(a, api_versions_resp_supported_feature, feature_count);
	api_versions_resp_finalized_feature *fin =
		ARENA_NEW_ARRAY(a, api_versions_resp_finalized_feature, feature_count);
	int nsup = 0, nfin = 0;

	for (int i = 0; i < feature_count; i++) {
		const feature_level *f = &feature_levels[i];
		if (ver >= 4 || f->min_version > 0) {
			sup[nsup].name = kstr_c(f->name);
			sup[nsup].min_version = f->min_version;
			sup[nsup].max_version = f->max_version;
			nsup++;
		}
		if (f->finalized != 0) {
			fin[nfin].name = kstr_c(f->name);
			fin[nfin].max_version_level = f->finalized;
			fin[nfin].min_version_level = f->finalized;
			nfin++;
		}
	}
	resp->supported_features = karray_of(sup, nsup);
	resp->finalized_features_epoch = FEATURES_EPOCH;
	resp->finalized_features = karray_of(fin, nfin);
}
