"""Typed errors shared by every layer; the API maps them to problem+json, the CLI to exit codes."""

from __future__ import annotations


class DoxaError(Exception):
    """Base class of Doxa's own errors: the message is meant for the person who sees it."""


class ConfigurationError(DoxaError):
    """The configuration is inconsistent or refers to something that does not exist."""


class EmbeddingModelMismatch(ConfigurationError):
    """Stored vectors were made by another embedding model or dimension than the configured one."""


class NotFoundError(DoxaError):
    """A requested record does not exist."""


class InvalidInputError(DoxaError):
    """Input that cannot be processed as given (bad file, bad field)."""


class ConflictError(DoxaError):
    """The request conflicts with the current state (wrong status, concurrent change)."""


class EngineBusyError(DoxaError):
    """An embedded engine is held by another process for longer than this one may wait (retry later)."""
