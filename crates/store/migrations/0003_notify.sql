-- Subscribers to the status page, and the outbox every outbound message
-- (subscriber notices, confirmations, pages, mitigation calls) goes through.

CREATE TABLE subscribers (
    id                INTEGER PRIMARY KEY,
    channel           TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
    target            TEXT    NOT NULL,
    -- Comma-separated service names and region ids; empty means everything.
    services          TEXT    NOT NULL,
    regions           TEXT    NOT NULL,
    -- HMAC-SHA256 key for webhook signatures.
    secret            TEXT,
    -- SHA-256 of the double opt-in token; NULL once confirmed.
    confirm_hash      TEXT,
    confirmed_at      INTEGER,
    -- Low value (it only unsubscribes), so kept as is to put in every message.
    unsubscribe_token TEXT    NOT NULL UNIQUE,
    created_at        INTEGER NOT NULL,
    UNIQUE (channel, target)
);

-- The key makes enqueueing idempotent: the same notice for the same
-- subscriber is one row however often, and after however many restarts, it
-- is queued.
CREATE TABLE outbox (
    key             TEXT    PRIMARY KEY,
    channel         TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    secret          TEXT,
    -- Network time of the event the message is about.
    event_at        INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    gave_up_at      INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
