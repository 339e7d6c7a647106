CREATE OR REPLACE FUNCTION line_total(quantity numeric, unit_price numeric, discount_percent numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN round(quantity * unit_price * (1 - discount_percent / 100), 2);
