"""Event ingestion: PutEvents validation, sessions and the per-day rollups analytics reads."""
