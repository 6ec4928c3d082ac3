-- Who may use the console and the operator API, and what they did.
-- Secrets are never stored: tokens and sessions by SHA-256, passwords by argon2id.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    -- NULL: the user signs in with API tokens or one-time links only.
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

-- API tokens: looked up by their public id, the secret's hash compared in constant time.
CREATE TABLE api_tokens (
    id          TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Console sessions, keyed by the SHA-256 of the cookie value.
CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- One-time console sign-in links, keyed by the SHA-256 of the code.
CREATE TABLE login_links (
    code_hash  TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);

-- Every operator action, append-only.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    detail TEXT    NOT NULL
);
CREATE INDEX audit_by_actor ON audit_log (actor, at);
