"""The customer page: one call that gathers a customer's profile, tickets and satisfaction
(``GET /v1/users/{id}/overview``). Above ``tickets``, ``satisfaction`` and ``users``: it
reads them all and changes nothing."""
