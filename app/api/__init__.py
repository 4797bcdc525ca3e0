"""The HTTP endpoints, one module per resource, registered from one tuple."""

from app.api.batch import batch_bp
from app.api.customers import customers_bp
from app.api.dashboard import dashboard_bp
from app.api.docs import docs_bp
from app.api.health import health_bp
from app.api.listing import listing_bp
from app.api.metrics import metrics_bp
from app.api.operations import operations_bp
from app.api.results import results_bp

BLUEPRINTS = (health_bp, docs_bp, batch_bp, operations_bp, customers_bp, listing_bp, results_bp,
              metrics_bp, dashboard_bp)
