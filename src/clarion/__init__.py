"""Clarion: a self-hosted user-engagement engine that speaks the Amazon Pinpoint API."""

__version__ = "0.1.0"
