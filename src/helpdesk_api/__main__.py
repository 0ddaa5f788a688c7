from helpdesk_api.cli import app

app()
