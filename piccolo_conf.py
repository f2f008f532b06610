"""Configuration for Piccolo's own command line (`piccolo migrations new <app> --auto`),
run from the project root; the service itself uses `service.piccolo_conf`."""

from service.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
