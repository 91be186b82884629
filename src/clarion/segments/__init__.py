"""Segments: Pinpoint's ``SegmentDimensions`` compiled to SQL over the stored endpoints.

``dimensions`` turns a dimension set into one SQLAlchemy boolean expression (SQLite and
PostgreSQL); ``reference`` evaluates the same semantics in plain Python, one endpoint at a time,
so the SQL can be checked against it.
"""
