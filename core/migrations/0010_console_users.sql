-- Local users of the reviewer console: scrypt password hashes (salted), never the passwords.
CREATE TABLE console_user (
    name           text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._@-]{1,100}$'),
    password_hash  text NOT NULL,                   -- scrypt$N$r$p$salt$hash (base64)
    roles          text[] NOT NULL CHECK (cardinality(roles) > 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz
);

-- Failed sign-ins per name tried (known or not, so a lockout does not reveal which names exist).
CREATE TABLE console_login_failure (
    name               text PRIMARY KEY,
    failures           integer NOT NULL CHECK (failures > 0),
    window_started_at  timestamptz NOT NULL,
    locked_until       timestamptz
);
