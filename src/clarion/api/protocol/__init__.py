"""The generic rest-json protocol layer, driven by botocore's Pinpoint service model.

Pure functions over bytes, strings and dicts: the HTTP framework calls ``route``, ``parse``
and ``serialize``/``serialize_error``; nobody hand-writes request parsers.
"""

from clarion.api.protocol.operations import HttpResponse, Protocol, load_pinpoint_model
from clarion.api.protocol.routing import Route

__all__ = ["HttpResponse", "Protocol", "Route", "load_pinpoint_model"]
