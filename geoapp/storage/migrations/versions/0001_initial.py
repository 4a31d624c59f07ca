"""Boundaries, versioned OCOP tables and the served-state row (issue 14).

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Geometries are EPSG:4326 (lon/lat degrees), indexed with GiST; distances are taken on the
geography type (metres on the WGS 84 spheroid).
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;

CREATE TABLE boundary_loads (
    id bigserial PRIMARY KEY,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    manifest jsonb NOT NULL,
    crosswalk_csv text NOT NULL
);
CREATE TABLE boundary_layers (
    load_id bigint NOT NULL REFERENCES boundary_loads (id) ON DELETE CASCADE,
    layer text NOT NULL,
    detail text NOT NULL CHECK (detail IN ('full', 'display')),
    columns jsonb NOT NULL,
    PRIMARY KEY (load_id, layer, detail)
);
CREATE TABLE boundary_features (
    load_id bigint NOT NULL,
    layer text NOT NULL,
    detail text NOT NULL,
    ord integer NOT NULL,
    code text NOT NULL,
    props jsonb NOT NULL,
    geom geometry(Geometry, 4326) NOT NULL,
    PRIMARY KEY (load_id, layer, detail, ord),
    FOREIGN KEY (load_id, layer, detail)
        REFERENCES boundary_layers (load_id, layer, detail) ON DELETE CASCADE
);
CREATE INDEX boundary_features_geom ON boundary_features USING gist (geom);

CREATE TABLE ocop_versions (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name = 'seed' OR name ~ '^v[0-9]{4,}$'),
    created timestamptz NOT NULL DEFAULT now(),
    action text NOT NULL,
    manifest jsonb NOT NULL
);
CREATE TABLE ocop_tables (
    version_id integer NOT NULL REFERENCES ocop_versions (id) ON DELETE CASCADE,
    file_name text NOT NULL,
    content text NOT NULL,
    PRIMARY KEY (version_id, file_name)
);
CREATE TABLE ocop_places (
    version_id integer NOT NULL REFERENCES ocop_versions (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('producer', 'outlet')),
    ord integer NOT NULL,
    place_id text NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    geom geometry(Point, 4326)
        GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
    PRIMARY KEY (version_id, kind, ord)
);
CREATE INDEX ocop_places_geom ON ocop_places USING gist (geom);

CREATE TABLE app_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    instance_id uuid NOT NULL DEFAULT gen_random_uuid(),
    boundary_load bigint REFERENCES boundary_loads (id),
    current_version integer REFERENCES ocop_versions (id),
    events jsonb NOT NULL DEFAULT '[]'::jsonb
);
INSERT INTO app_state DEFAULT VALUES;
"""

DOWNGRADE = """
DROP TABLE app_state;
DROP TABLE ocop_places;
DROP TABLE ocop_tables;
DROP TABLE ocop_versions;
DROP TABLE boundary_features;
DROP TABLE boundary_layers;
DROP TABLE boundary_loads;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
