-- What operators told the pipeline ahead of a fault, kept so that a
-- restarted run still weighs a recent change as evidence and still watches
-- a scheduled event. Each row is the record as the API took it (JSON).
CREATE TABLE changes (
    id     INTEGER PRIMARY KEY,
    -- Network time the change took effect.
    at     INTEGER NOT NULL,
    record TEXT    NOT NULL
);
CREATE INDEX changes_at ON changes (at);

CREATE TABLE watches (
    id      INTEGER PRIMARY KEY,
    -- Network time the event ends.
    ends_at INTEGER NOT NULL,
    record  TEXT    NOT NULL
);
CREATE INDEX watches_ends_at ON watches (ends_at);
