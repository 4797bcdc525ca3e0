"""``batchq``: the command-line client of the batch API (import files, watch and stop jobs).

It talks to the service over HTTP only, with the tenant's keys, and imports nothing of the
server's code, so it runs anywhere the API is reachable.
"""
