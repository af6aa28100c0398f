"""kseal: keep Kubernetes Secrets safe in Git."""

__version__ = "0.1.0"
