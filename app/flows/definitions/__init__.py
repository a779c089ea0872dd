"""One module per e-service definition. Definitions are data: no HTTP, no SQL."""
