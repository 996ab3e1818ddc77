"""One module per agent of the ticket-resolution graph."""
