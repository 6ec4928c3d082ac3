-- Customer problem reports. No IP address; the contact only until the
-- reporter has been told the problem is fixed.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    -- Network time the report counted at.
    at          INTEGER NOT NULL,
    area        TEXT    NOT NULL,
    problem     TEXT    NOT NULL,
    contact     TEXT,
    received_at INTEGER NOT NULL
);
CREATE INDEX reports_with_contact ON reports (area, at) WHERE contact IS NOT NULL;
