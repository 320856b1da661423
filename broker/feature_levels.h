/*
 * The feature levels the broker reports (KIP-584): what ApiVersions v3+
 * lists as supported and finalized, and what UpdateFeatures may ask for.
 * The levels are fixed by what this release implements; nothing changes
 * them at run time.
 */
#ifndef PGK_FEATURE_LEVELS_H
#define PGK_FEATURE_LEVELS_H

#include <stdbool.h>
#include <stdint.h>

#include "apis.h"
#include "arena.h"

typedef struct feature_level {
	const char *name;
	int16_t min_version; /* supported range */
	int16_t max_version;
	int16_t finalized; /* the level in force; 0: disabled, not listed */
} feature_level;

/* The epoch of the finalized levels: constant, since they never change. */
#define FEATURES_EPOCH 0

extern const feature_level feature_levels[];
extern const int feature_count;

/* The feature of that name, or NULL. */
const feature_level *feature_find(kstr name);

/* Whether transactions v2 (KIP-890 part 2) are in force: a transactional
 * Produce v12+ adds its partition to the transaction. */
bool feature_txn_v2(void);

/* Fill ApiVersions' supported_features, finalized_features_epoch and
 * finalized_features for response version ver, as Kafka does: a feature
 * whose minimum is 0 is left out before v4, a finalized level of 0 is not
 * listed. */
void features_fill(arena *a, int16_t ver, api_versions_resp *resp);

#endif
