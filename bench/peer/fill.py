"""Run inside the peer's Django: bring its ticket table to exactly N tickets, for reads at a
fixed series of table sizes. Prints {"tickets", "min_id", "max_id"} as JSON.

    python -m bench.peer.fill N

Tickets beyond N are deleted (all of them, if there are more: the series starts small);
missing ones are added with bulk_create in the bench's queue, with the same kind of text as
the service's dataset (bench/words.py). They have no follow-ups: its read does not look at
follow-ups, its cost grows with the tickets it can see.
"""

import json
import random
import sys
from datetime import timedelta

import django

django.setup()

from django.utils import timezone  # noqa: E402
from helpdesk.models import Queue, Ticket  # noqa: E402

from bench.words import LANGUAGES, WORDS  # noqa: E402


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS[rng.choice(LANGUAGES)], k=words)).capitalize()


def fill(wanted: int) -> dict[str, int]:
    queue = Queue.objects.get(slug="bench")
    if Ticket.objects.count() > wanted:
        Ticket.objects.all().delete()
    missing = wanted - Ticket.objects.count()
    rng = random.Random(wanted)
    now = timezone.now()
    Ticket.objects.bulk_create(
        (
            Ticket(
                title=_text(rng, rng.randint(3, 8)),
                queue=queue,
                created=now - timedelta(minutes=n),
                modified=now - timedelta(minutes=n),
                submitter_email=f"customer{rng.randrange(1000)}@example.com",
                description=_text(rng, rng.randint(8, 60)),
                priority=rng.randint(1, 5),
            )
            for n in range(missing)
        ),
        batch_size=1000,
    )
    ids = Ticket.objects.order_by("id").values_list("id", flat=True)
    return {"tickets": ids.count(), "min_id": ids.first() or 0, "max_id": ids.last() or 0}


if __name__ == "__main__":
    print(json.dumps(fill(int(sys.argv[1]))))
