-- API keys for machine clients: only the SHA-256 of a key is stored; the key itself is shown once.
CREATE TABLE api_key (
    id            text PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    key_hash      text NOT NULL UNIQUE,            -- hex SHA-256 of the whole key
    key_prefix    text NOT NULL,                   -- the first characters, so people can tell keys apart
    roles         text[] NOT NULL CHECK (cardinality(roles) > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
