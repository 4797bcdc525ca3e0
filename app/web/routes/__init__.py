"""The HTTP endpoints, one module per resource, registered from one tuple."""

from app.web.routes.batch import batch_bp
from app.web.routes.batches import batches_bp
from app.web.routes.customers import customers_bp
from app.web.routes.dashboard import dashboard_bp
from app.web.routes.docs import docs_bp
from app.web.routes.health import health_bp
from app.web.routes.listing import listing_bp
from app.web.routes.metrics import metrics_bp
from app.web.routes.operations import operations_bp
from app.web.routes.results import results_bp

BLUEPRINTS = (health_bp, docs_bp, batch_bp, batches_bp, operations_bp, customers_bp, listing_bp, results_bp,
              metrics_bp, dashboard_bp)
