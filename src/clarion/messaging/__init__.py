"""Sending messages: composing them per recipient, the delivery ledger, retries, and the
delivery events that flow back into analytics."""
