"""Products and assets: the catalogue (``/v1/products``) and what customers own
(``/v1/users/{id}/assets``), and which of them a ticket is about (``matching``)."""
