"""The errors videoanalyst raises for bad input: each names the file, key or frame and what was expected."""


class VideoAnalystError(Exception):
    """Base of every user-facing error; the command line prints its message alone, without a traceback."""


class ConfigError(VideoAnalystError):
    """A pipeline or experiment file names an unknown stage, an unknown or mistyped setting, or a missing file."""


class InputError(VideoAnalystError):
    """A video, image folder, annotation or result file is missing, corrupt or malformed."""
