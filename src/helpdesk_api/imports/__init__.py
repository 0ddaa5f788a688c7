"""Importing history from another help desk: tickets with their conversations, as they were."""
