"""The two kinds of error a user can cause; the CLI prints either as one line, exit status 2."""


class ConfigError(ValueError):
    """A configuration value is not allowed; the message names the key and the options."""


class UsageError(Exception):
    """A problem with what the user asked for (a study file, a path, a flag)."""
