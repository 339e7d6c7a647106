-- A user's activities as an iCalendar feed that a calendar program fetches without signing in:
-- the URL's secret is the key, so only its SHA-256 is kept. A new secret replaces the old one
-- (the old URL stops working); revoking deletes the row. A deactivated user's feed answers 404.
CREATE TABLE calendar_feeds (
    user_id uuid PRIMARY KEY REFERENCES users,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_fetched_at timestamptz
);
