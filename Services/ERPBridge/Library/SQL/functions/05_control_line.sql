-- An order's line in a source's control totals: `order_number|version|status|gross`, gross with
-- two decimals at least, as the digest of Services/ERPBridge/asyncapi.yaml is taken over.
CREATE OR REPLACE FUNCTION control_line(order_number text, version bigint, status text, gross numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN order_number || '|' || version || '|' || status || '|' || money_text(gross);
