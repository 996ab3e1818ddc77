"""Doxa's shared core: settings, logging, database, embeddings, ClickHouse and LLM factories."""
