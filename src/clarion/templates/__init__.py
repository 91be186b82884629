"""Message templates: storage, versions and rendering."""
