-- An amount as the API writes money: a decimal string with at least two decimals.
CREATE OR REPLACE FUNCTION money_text(a numeric) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN scale(trim_scale(a)) <= 2 THEN round(a, 2)::text ELSE trim_scale(a)::text END;
