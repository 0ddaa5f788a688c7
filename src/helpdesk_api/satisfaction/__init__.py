"""Satisfaction (CSAT): a solved ticket's requester rates it, by the solved notice's link or
signed in; staff list the ratings. Other domains use ``offer_rating`` and ``rating_links``
(the notifications' solved notice)."""

from helpdesk_api.satisfaction.tokens import offer_rating, rating_links

__all__ = ["offer_rating", "rating_links"]
