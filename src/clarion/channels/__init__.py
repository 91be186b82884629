"""An app's channels: the settings and credentials each messaging platform needs.

``kinds`` is the one list of channel types; ``rules`` holds what each platform accepts and
shows (pure); ``service`` stores it.
"""
