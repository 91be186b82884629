"""Event streams: PutEventStream's configuration, and the exporter that copies every event of an
app to its stream's destination.

The ``events`` table is the durable buffer and ``event_streams.exported_seq`` the cursor of the
last event delivered, so a destination that is down only delays delivery: the exporter resumes
from the cursor, at least once, without ever holding up ingestion.
"""
