-- ts() was declared IMMUTABLE around to_char, which is STABLE, so PostgreSQL would not
-- inline it: every document ran its body three times as a function of its own, with an
-- executor started each time. STABLE lets the planner write the expression into the
-- query. At 200,000 contacts, building their documents took 2.2 s instead of 3.0.
CREATE OR REPLACE FUNCTION ts(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
