"""Campaigns: schedules, local-time waves, quiet time, A/B assignment, event triggers, limits."""
