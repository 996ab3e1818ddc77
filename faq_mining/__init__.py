"""The FAQ-mining graph: resolved tickets become reviewed FAQ entries."""
