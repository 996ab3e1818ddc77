"""The ticket-resolution graph: builder, routing decisions and runtime context."""
