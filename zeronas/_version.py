"""The version of zeronas, read by pyproject.toml (``[tool.setuptools.dynamic]``) and ``zeronas.__version__``."""

__version__ = "0.1.0"
