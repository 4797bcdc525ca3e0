"""The worker entry point: the Celery application, built once from the app's configuration."""
from app import create_app

celery_app = create_app().extensions["celery"]
