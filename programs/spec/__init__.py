"""The program spec document: its JSON Schema and its validation."""

from .schema import SCHEMA  # noqa: F401
from .validate import Problem, iter_items, validate_spec  # noqa: F401
