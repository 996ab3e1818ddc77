"""Doxa's foundation: settings, logging, errors, database and migrations, engines, embeddings, LLM and prompts."""
