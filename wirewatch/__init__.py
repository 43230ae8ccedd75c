"""wirewatch: watch many news feeds, read the real article, alert once per development."""

from pathlib import Path as _Path

__version__ = "0.1.0"

# Installed, wirewatch.flows, wirewatch.store, ... sit inside this package's folder. In a source
# checkout they are the folders beside it (pyproject.toml maps them), and this folder is what
# `python -m pytest` imports from the checkout's root whether the install was editable or not:
# let the subpackages be found there too.
_checkout = _Path(__file__).resolve().parent.parent
if (_checkout / "pyproject.toml").is_file() and (_checkout / "flows" / "__init__.py").is_file():
    __path__.append(str(_checkout))
