"""Persistence: one SQLAlchemy Core schema on SQLite or PostgreSQL, behind small repositories."""
