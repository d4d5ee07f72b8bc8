"""pgconvoy: turn a live PostgreSQL database into a reviewed, ordered, verified migration."""

__version__ = "0.1.0"
