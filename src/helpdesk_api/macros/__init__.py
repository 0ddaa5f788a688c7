"""Macros: agents' canned responses and ticket changes (``/v1/macros``), applied to a ticket
in one request (``POST /v1/tickets/{id}/macros/apply``) with the triggers' action
vocabulary, their reference checks and their writer."""
