"""Journeys: Pinpoint's multi-step flows."""
