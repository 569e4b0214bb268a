"""matplotlib, an optional dependency (``pip install 'thermine[plots]'``): the ground's
pictures need it, flight and the rest of the ground do not."""

from __future__ import annotations

from typing import Any

from common.errors import ConfigError

INSTALL_HINT = "pip install 'thermine[plots]' (or make run, which installs it)"


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg (file) backend.

    Raises:
        ConfigError: matplotlib is not installed (says how to install it).
    """
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("matplotlib", f"not installed; pictures need it: {INSTALL_HINT}"
                          ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
