#ifndef SWITCHBOARD_CAMQP_H
#define SWITCHBOARD_CAMQP_H

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

/* amqp_login_with_properties is variadic, so Swift cannot call it: this passes the PLAIN mechanism's two strings. */
amqp_rpc_reply_t camqp_login_plain(amqp_connection_state_t state, const char *vhost, int channel_max,
                                   int frame_max, int heartbeat, const amqp_table_t *client_properties,
                                   const char *user, const char *password);

/* The method ids are cast macros, which Swift does not import. */
extern const amqp_method_number_t CAMQP_BASIC_ACK;
extern const amqp_method_number_t CAMQP_BASIC_NACK;
extern const amqp_method_number_t CAMQP_BASIC_RETURN;
extern const amqp_method_number_t CAMQP_BASIC_DELIVER;
extern const amqp_method_number_t CAMQP_CHANNEL_CLOSE;
extern const amqp_method_number_t CAMQP_CONNECTION_CLOSE;
extern const amqp_method_number_t CAMQP_CONNECTION_BLOCKED;
extern const amqp_method_number_t CAMQP_CONNECTION_UNBLOCKED;
extern const amqp_method_number_t CAMQP_BASIC_CANCEL;
extern const amqp_method_number_t CAMQP_BASIC_GET_OK;
extern const amqp_method_number_t CAMQP_BASIC_GET_EMPTY;

/* Bytes as a Swift-friendly pair (amqp_bytes_t is fine, but its empty value is a macro). */
static inline amqp_bytes_t camqp_bytes(const void *bytes, size_t len) {
    amqp_bytes_t b;
    b.len = len;
    b.bytes = (void *)bytes;
    return b;
}

#endif
