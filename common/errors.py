"""The one error every layer raises for bad input: a config file, an argument, a table."""

from __future__ import annotations


class ConfigError(Exception):
    """A config file, argument or table is wrong: the message names the file (or the
    argument), the key path and what was expected. The CLI turns it into exit 2."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
