-- The staff's users as the gateway's identity.user.* events describe them: who may own work here.
-- A few hundred rows; an owner is looked up by id or e-mail without an index.
CREATE TABLE staff_users (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    active boolean NOT NULL,
    aggregate_version bigint NOT NULL
);
