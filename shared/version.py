"""One version string for the agent, central and the results they exchange."""

from importlib import metadata


def _installed_version() -> str:
    try:
        return metadata.version("laser-trim-analyzer-edge")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0.0.0+source"


__version__ = _installed_version()

# Bumped whenever a change to the analysis can change a verdict or a metric,
# so that stored results say which rules produced them.
ANALYSIS_VERSION = "2"  # 2: spec-aware verdicts (rotation, ignored rows, policies)
