"""The public web form: anonymous requests become tickets (``POST /v1/public/requests``)."""
