"""Analytics read side: Pinpoint's application KPIs and Clarion's engagement reports, computed
from the per-day rollups that ingestion keeps current, never from the raw events."""
