"""Typed state of a ticket thread and the pydantic models of every agent's output."""
