"""Run inside the peer's Django: an admin with a DRF token, one queue; prints the token and
the queue id as JSON. Idempotent."""

import json

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from helpdesk.models import Queue  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

User = get_user_model()
admin, _ = User.objects.get_or_create(
    username="bench", defaults={"is_staff": True, "is_superuser": True, "email": "b@x.test"}
)
token, _ = Token.objects.get_or_create(user=admin)
queue, _ = Queue.objects.get_or_create(
    slug="bench", defaults={"title": "Bench", "allow_public_submission": False}
)
print(json.dumps({"token": token.key, "queue": queue.id}))
