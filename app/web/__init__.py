"""The HTTP layer: blueprints (``routes/``), authentication, request bodies, the JSON error
shape, the OpenAPI document and the operators' dashboard. Nothing below imports it."""
