"""Deployment targets above inference: isolated virtualenvs and container build contexts."""
