-- A timestamp as the API and the events write it: RFC 3339 in UTC, to the millisecond. STABLE, as
-- the to_char it wraps is, so the planner inlines it into the documents that call it (declared
-- IMMUTABLE it was not inlined, and every timestamp of a document started an executor of its own).
CREATE OR REPLACE FUNCTION ts(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
