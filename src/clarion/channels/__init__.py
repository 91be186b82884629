"""An app's channels: the settings and credentials each messaging platform needs.

``rules`` holds what each platform accepts and shows (pure); ``service`` stores it.
"""
