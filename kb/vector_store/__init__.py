"""Vector stores for KB chunks behind one small interface: Qdrant (local or server) and pgvector."""
