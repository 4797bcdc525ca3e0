"""Developer tooling: find or start the servers the service needs, and run it locally."""
