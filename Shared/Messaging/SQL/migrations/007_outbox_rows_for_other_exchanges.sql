-- A row with an exchange is a message for an outside system (the ERP bridge's answers on
-- erp.outbound): published there, under its routing key, with its payload as the whole body
-- rather than an event envelope. Without one it is an event for crm.events, as before.
ALTER TABLE outbox ADD COLUMN exchange text;
ALTER TABLE outbox ADD COLUMN routing_key text;
ALTER TABLE outbox ADD CONSTRAINT outbox_exchange_with_routing_key CHECK ((exchange IS NULL) = (routing_key IS NULL));
