-- Groups (a clinic, a study site) and their members: patients enlisted
-- (optionally until a date) and staff with group roles. Documents refer to
-- groups in their group_ids; access rules match them against these tables
-- through the caller's Principal.

CREATE TABLE groups (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    created_by  uuid,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX groups_name_idx ON groups (name, id);

CREATE TABLE group_patients (
    group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  timestamptz,
    enlisted_by uuid,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX group_patients_user_idx ON group_patients (user_id);

CREATE TABLE group_staff (
    group_id   uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    roles      text[] NOT NULL CHECK (cardinality(roles) > 0),
    added_by   uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX group_staff_user_idx ON group_staff (user_id);
