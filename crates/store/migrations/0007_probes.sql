-- Probes firing when a run stopped. Alertmanager tells a firing alert again
-- only every repeat_interval (4 hours by default): a restarted run takes
-- these up instead of waiting that long with the probes' evidence missing.
CREATE TABLE probes (
    element  TEXT    NOT NULL,
    alert_id TEXT    NOT NULL,
    services INTEGER NOT NULL,
    -- Wall-clock Unix seconds the alert was last heard of.
    heard_at INTEGER NOT NULL,
    PRIMARY KEY (element, alert_id)
);
