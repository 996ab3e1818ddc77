"""The FAQ-mining graph's steps, one module each, in the order of the flowchart (see faq_mining/graph.py)."""
