"""WSGI entry point for gunicorn: ``gunicorn wsgi:app`` (settings from $MAPSERVER_CONFIG or config.yaml)."""

from mapserver import create_app

app = create_app()
