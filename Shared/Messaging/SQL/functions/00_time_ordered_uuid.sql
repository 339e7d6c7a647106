-- A version 7 UUID (RFC 9562), as UUID.timeOrdered() makes in Swift: Unix milliseconds
-- in the first 48 bits, so new event ids append to the outbox and inbox indexes
-- rather than land on random pages. gen_random_uuid() gives the random bits and the
-- variant; its version 4 (0100) becomes 7 (0111) by setting two bits.
CREATE OR REPLACE FUNCTION time_ordered_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE
RETURN encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
    52, 1), 53, 1), 'hex')::uuid;
