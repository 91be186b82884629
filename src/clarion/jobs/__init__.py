"""Import and export jobs: endpoints in bulk, from and to files, S3 and the web."""
