"""What the service draws and tabulates from stored results: pictures (lazy matplotlib) and CSV."""
