"""Marshmallow schemas: the request envelope, one record schema per operation, and the
response bodies. They are the single source of the rules and of the messages users read."""
