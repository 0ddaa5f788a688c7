"""Messaging channels: chat widgets, phone systems and social bridges through one documented
API, Telegram bots and Prometheus Alertmanager natively; replies go back out through the
channel, from a durable outbox the worker delivers."""
