-- Incidents: the columns people query by, plus the whole record as JSON so the
-- record can grow without a migration for every field.
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY,
    status      TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    opened_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    root_cause  TEXT,
    record      TEXT    NOT NULL
);
CREATE INDEX incidents_by_opened ON incidents (opened_at);

-- The timeline, append-only: (incident_id, seq) makes a replayed save a no-op.
CREATE TABLE timeline (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    public_body TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
