"""Adapters at the edge: S3 reading, settings, observability."""
