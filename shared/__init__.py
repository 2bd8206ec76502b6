"""Code both programs use: the result models, the sync protocol and the version."""

from shared.version import __version__

__all__ = ["__version__"]
