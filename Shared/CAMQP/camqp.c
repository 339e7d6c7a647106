#include "CAMQP.h"

amqp_rpc_reply_t camqp_login_plain(amqp_connection_state_t state, const char *vhost, int channel_max,
                                   int frame_max, int heartbeat, const amqp_table_t *client_properties,
                                   const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, client_properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

const amqp_method_number_t CAMQP_BASIC_ACK = AMQP_BASIC_ACK_METHOD;
const amqp_method_number_t CAMQP_BASIC_NACK = AMQP_BASIC_NACK_METHOD;
const amqp_method_number_t CAMQP_BASIC_RETURN = AMQP_BASIC_RETURN_METHOD;
const amqp_method_number_t CAMQP_BASIC_DELIVER = AMQP_BASIC_DELIVER_METHOD;
const amqp_method_number_t CAMQP_CHANNEL_CLOSE = AMQP_CHANNEL_CLOSE_METHOD;
const amqp_method_number_t CAMQP_CONNECTION_CLOSE = AMQP_CONNECTION_CLOSE_METHOD;
const amqp_method_number_t CAMQP_CONNECTION_BLOCKED = AMQP_CONNECTION_BLOCKED_METHOD;
const amqp_method_number_t CAMQP_CONNECTION_UNBLOCKED = AMQP_CONNECTION_UNBLOCKED_METHOD;
const amqp_method_number_t CAMQP_BASIC_CANCEL = AMQP_BASIC_CANCEL_METHOD;
const amqp_method_number_t CAMQP_BASIC_GET_OK = AMQP_BASIC_GET_OK_METHOD;
const amqp_method_number_t CAMQP_BASIC_GET_EMPTY = AMQP_BASIC_GET_EMPTY_METHOD;
