"""Notifications: who is told what, rendered from templates into the e-mail outbox."""
