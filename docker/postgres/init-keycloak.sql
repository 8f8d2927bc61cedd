-- Keycloak keeps its own database on the same PostgreSQL server (run once, on first start).
CREATE DATABASE keycloak OWNER opsconductor;
