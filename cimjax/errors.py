"""The errors cimjax raises for anything a caller can get wrong.

Every one is a `CimjaxError`, itself a `ValueError`, so existing `except ValueError`
code keeps working. Branch on the subclass when the cause matters:

- `ConfigError`: a parameter, shape, value or combination of settings that cannot
  be used (the message names the parameter and what was expected);
- `DataFileError`: a file that cannot be read or parsed (the message names the
  file and, where it applies, the line and column);
- `CheckpointError`: a checkpoint of another format, version or configuration
  (the message names every field that differs).

The command line turns each into one line on stderr and exit code 2.
"""

from __future__ import annotations

__all__ = ["CimjaxError", "ConfigError", "DataFileError", "CheckpointError"]


class CimjaxError(ValueError):
    """Bad input to cimjax: fix what the message names and run again."""


class ConfigError(CimjaxError):
    """A parameter, shape or configuration that cannot be used."""


class DataFileError(CimjaxError):
    """A file that cannot be read or parsed; the message names file, line and column."""


class CheckpointError(CimjaxError):
    """A checkpoint written by another format, version or configuration."""
