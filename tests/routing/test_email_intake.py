"""A ticket opened by e-mail is routed like any other, by the language detected on intake."""

from tests.factories import ADMIN
from tests.mail.mailboxes import deliver, make_mailbox
from tests.mail.messages import message
from tests.routing.helpers import make_agent, routed_group


async def test_a_mailed_ticket_goes_to_a_speaker_of_its_language(client):
    english, _ = await make_agent(client, skills=("lang:en",))
    hungarian, _ = await make_agent(client, skills=("lang:hu",))
    group = await routed_group(client, "round_robin", english, hungarian, match_language=True)
    mailbox = await make_mailbox(client, group_id=group)
    raw = message(
        sender="Ilona Kovács <ilona@example.hu>",
        subject="Nyomtató hiba",
        body="Jó napot! A nyomtató nem működik, kérem segítsenek mielőbb. Köszönöm szépen.",
    )
    result = await deliver(client, mailbox["id"], raw)
    assert result["outcome"] == "new_ticket"
    ticket = (await client.get(f"/v1/tickets/{result['ticket_id']}", headers=ADMIN)).json()
    assert ticket["assignee_id"] == hungarian
