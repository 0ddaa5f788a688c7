"""Custom fields: definitions of ticket, user and organisation fields (``/v1/ticket-fields``,
``/v1/user-fields``, ``/v1/organization-fields``) and the one validation of their values that
every resource carrying ``custom_fields`` uses (``fields.values``)."""
