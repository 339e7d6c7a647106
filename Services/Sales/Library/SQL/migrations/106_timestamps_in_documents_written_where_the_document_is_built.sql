-- As in contacts (its migration 108): declared IMMUTABLE around the STABLE to_char, ts()
-- was never inlined, and each timestamp of a document started an executor of its own.
CREATE OR REPLACE FUNCTION ts(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
