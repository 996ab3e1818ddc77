"""The plumbing both graphs share, so the ticket graph and the mining graph run the same way.

- `context`: the default-context registry for runs that bring no context (LangGraph Studio).
- `checkpoints`: the checkpoint serializer with its allow-list, and the Postgres saver.
- `retry`: the retry policies nodes are registered with (storage hiccups, LLM faults).
- `studio`: one way to hand a graph to `langgraph dev` with its dependencies built from the settings.
"""
