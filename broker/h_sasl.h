/*
 * The SASL session of a connection (SaslHandshake, SaslAuthenticate), as
 * the server sees it: whether the client has authenticated and as whom,
 * whether its session has expired (connections.max.reauth.ms), and whether
 * the next frame is a raw SASL token (after SaslHandshake v0). The session
 * lives in the connection's CONN_SLOT_SASL slot.
 */
#ifndef PGK_H_SASL_H
#define PGK_H_SASL_H

#include <stdbool.h>
#include <stdint.h>

#include "request.h"

/* "User:<name>" once the client has authenticated, else NULL. */
const char *sasl_conn_principal(conn_slot *slots);
/* Whether the authenticated session is past its lifetime at now_ms
 * (monotonic). */
bool sasl_conn_expired(conn_slot *slots, int64_t mono_ms);
/* Whether the next frame is a raw SASL token rather than a Kafka request. */
bool sasl_conn_raw_expected(conn_slot *slots);

#endif
