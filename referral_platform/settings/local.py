"""The embedded default: SQLite, in-process jobs, console email, debug on."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
