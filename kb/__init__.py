"""Knowledge base: ingestion, chunking, vector stores and hybrid retrieval."""
