import time

import pytest

from helpdesk_api.mail.quoting import visible_reply

EN_GMAIL = """\
Thanks, that fixed it. The export works again.

On Mon, 3 Mar 2025 at 10:12, Helpdesk Support <support@helpdesk.example>
wrote:

> Hello Anna,
>
> please clear the cache and try again.
>
> Kind regards,
> Support
"""

EN_OUTLOOK = """\
Hi team,

Thank you, the export works now.
But the PDF still has no logo.

Best regards,
John Smith
Head of IT | Example Ltd
+44 20 7946 0000

________________________________
From: Helpdesk Support <support@helpdesk.example>
Sent: Monday, March 3, 2025 10:12 AM
To: John Smith <john@example.co.uk>
Subject: RE: [#1234] Export fails

Hello John,
please try again.
"""

IT_GMAIL = """\
Buongiorno,
ho provato di nuovo ma l'errore è lo stesso.

Cordiali saluti,
Mario Rossi

Il giorno lun 3 mar 2025 alle ore 10:12 Assistenza <support@helpdesk.example> ha scritto:

> Gentile cliente,
> può riprovare?
"""

IT_OUTLOOK = """\
Grazie, ora funziona.

-----Messaggio originale-----
Da: Assistenza <support@helpdesk.example>
Inviato: lunedì 3 marzo 2025 10:12
A: Mario Rossi <mario@example.it>
Oggetto: R: [#1234] Errore di esportazione

Gentile cliente, può riprovare?
"""

RU_GMAIL = """\
Добрый день!
Всё равно не работает, ошибка 500.

С уважением,
Иван Петров

пн, 3 мар. 2025 г. в 10:12, Служба поддержки <support@helpdesk.example>:

> Здравствуйте, Иван!
> Попробуйте очистить кэш.
"""

RU_THUNDERBIRD = """\
Спасибо, помогло.

03.03.2025 10:12, Служба поддержки пишет:
> Здравствуйте, Иван!
> Попробуйте очистить кэш.
"""

RU_OUTLOOK = """\
Проблема решена, заявку можно закрыть.

С уважением, Иван Петров
ООО «Ромашка»

-----Исходное сообщение-----
От: Служба поддержки <support@helpdesk.example>
Отправлено: 3 марта 2025 г. 10:12
Кому: Иван Петров <ivan@example.ru>
Тема: RE: [#1234] Не работает экспорт

Здравствуйте! Попробуйте ещё раз.
"""

RU_MAIL_RU = """\
Да, всё работает.


Понедельник, 3 марта 2025, 10:12 +03:00 от Служба поддержки <support@helpdesk.example>:

>Здравствуйте!
"""

HU_GMAIL = """\
Kedves Ügyfélszolgálat!

Sajnos továbbra sem működik a belépés.

Üdvözlettel:
Kovács Éva

Ügyfélszolgálat <support@helpdesk.example> ezt írta (időpont: 2025. márc.
3., H, 10:12):

> Kedves Éva!
> Kérjük, próbálja újra.
"""

HU_OUTLOOK = """\
Köszönöm, most már működik.

Feladó: Ügyfélszolgálat <support@helpdesk.example>
Elküldve: 2025. március 3., hétfő 10:12
Címzett: Kovács Éva <eva@example.hu>
Tárgy: RE: [#1234] Belépési hiba

Kedves Éva! Kérjük, próbálja újra.
"""

HU_THUNDERBIRD = """\
Rendben, köszönöm a gyors választ.

2025. 03. 03. 10:12 keltezéssel, Ügyfélszolgálat írta:
> Kedves Éva!
"""

RO_GMAIL = """\
Bună ziua,
am încercat din nou și tot nu merge.

Cu stimă,
Andrei Popescu

În lun., 3 mar. 2025 la 10:12, Suport <support@helpdesk.example> a scris:

> Bună ziua,
> vă rugăm să încercați din nou.
"""

RO_OUTLOOK = """\
Mulțumesc, acum funcționează.

________________________________
De la: Suport <support@helpdesk.example>
Trimis: luni, 3 martie 2025 10:12
Către: Andrei Popescu <andrei@example.ro>
Subiect: RE: [#1234] Eroare la export

Bună ziua, vă rugăm să încercați din nou.
"""

RO_THUNDERBIRD = """\
Perfect, mulțumesc!

La 03.03.2025 10:12, Suport a scris:
> Bună ziua,
"""


@pytest.mark.parametrize(
    ("mail", "reply"),
    [
        pytest.param(EN_GMAIL, "Thanks, that fixed it. The export works again.", id="en-gmail"),
        pytest.param(
            EN_OUTLOOK,
            "Hi team,\n\nThank you, the export works now.\nBut the PDF still has no logo.",
            id="en-outlook",
        ),
        pytest.param(
            IT_GMAIL, "Buongiorno,\nho provato di nuovo ma l'errore è lo stesso.", id="it-gmail"
        ),
        pytest.param(IT_OUTLOOK, "Grazie, ora funziona.", id="it-outlook"),
        pytest.param(RU_GMAIL, "Добрый день!\nВсё равно не работает, ошибка 500.", id="ru-gmail"),
        pytest.param(RU_THUNDERBIRD, "Спасибо, помогло.", id="ru-thunderbird"),
        pytest.param(RU_OUTLOOK, "Проблема решена, заявку можно закрыть.", id="ru-outlook"),
        pytest.param(RU_MAIL_RU, "Да, всё работает.", id="ru-mail.ru"),
        pytest.param(
            HU_GMAIL,
            "Kedves Ügyfélszolgálat!\n\nSajnos továbbra sem működik a belépés.",
            id="hu-gmail",
        ),
        pytest.param(HU_OUTLOOK, "Köszönöm, most már működik.", id="hu-outlook"),
        pytest.param(HU_THUNDERBIRD, "Rendben, köszönöm a gyors választ.", id="hu-thunderbird"),
        pytest.param(RO_GMAIL, "Bună ziua,\nam încercat din nou și tot nu merge.", id="ro-gmail"),
        pytest.param(RO_OUTLOOK, "Mulțumesc, acum funcționează.", id="ro-outlook"),
        pytest.param(RO_THUNDERBIRD, "Perfect, mulțumesc!", id="ro-thunderbird"),
    ],
)
def test_quoted_reply_leaves_only_the_new_text(mail, reply):
    assert visible_reply(mail) == reply


def test_signature_after_dash_dash_is_removed():
    mail = "The invoice is attached.\n\n-- \nAnna Bianchi\nExample S.r.l.\n+39 02 1234567\n"
    assert visible_reply(mail) == "The invoice is attached."


@pytest.mark.parametrize(
    "sign_off",
    ["Cordiali saluti", "С уважением,", "Üdvözlettel:", "Cu respect,", "Kind regards, Anna"],
)
def test_sign_off_and_what_follows_is_removed(sign_off):
    mail = f"Line one.\nLine two.\n\n{sign_off}\nName Surname\nCompany"
    assert visible_reply(mail) == "Line one.\nLine two."


def test_phone_footer_is_removed():
    assert visible_reply("Ok, closing it.\n\nSent from my iPhone") == "Ok, closing it."
    assert visible_reply("Закрываю.\n\nОтправлено с iPhone") == "Закрываю."


def test_thanks_that_starts_a_sentence_is_not_a_signature():
    # mail-parser-reply alone would cut at "Thank you," and keep only "Hi team,".
    mail = "Hi team,\nThank you, the export works now.\nСпасибо, всё работает.\nGrazie per l'aiuto."
    assert visible_reply(mail) == mail


def test_message_without_quote_is_unchanged():
    mail = (
        "Hello,\n\nmy printer prints blank pages since the update.\n"
        "  - model: LaserJet 4000\n  - driver: 6.1\n\nCan you help?"
    )
    assert visible_reply(mail) == mail
    assert visible_reply(mail + "\n\n") == mail


def test_interleaved_quotes_are_dropped():
    mail = "> Which version do you use?\n2.4.1\n\n> Does it happen every time?\nOnly on Mondays.\n"
    assert visible_reply(mail) == "2.4.1\n\nOnly on Mondays."


def test_nothing_but_history_returns_the_original_text():
    mail = "On Mon, 3 Mar 2025 at 10:12, Support <support@helpdesk.example> wrote:\n> Hello\n"
    assert visible_reply(mail) == mail.strip()


def test_a_sentence_ending_in_wrote_is_not_an_attribution():
    mail = (
        "Buongiorno,\nIl cliente ha scritto:\nil pulsante non funziona.\n\n"
        "On Monday the customer wrote:\nit is broken.\n\nCosa devo rispondere?"
    )
    assert visible_reply(mail) == mail


def test_languages_the_library_knows_natively_still_split():
    # Our own rules know no German: this is mail-parser-reply's work.
    mail = (
        "Danke, jetzt geht es.\n\n"
        "Von: Support <support@example.de>\n"
        "Gesendet: Montag, 3. März 2025 10:12\n"
        "An: Anna <anna@example.de>\n"
        "Betreff: AW: Export\n\n"
        "Hallo Anna, bitte erneut versuchen.\n"
    )
    assert visible_reply(mail, languages=("de", "en")) == "Danke, jetzt geht es."
    assert visible_reply(mail, languages=("en",)) == mail.strip()


def test_crlf_line_endings():
    assert visible_reply(RU_THUNDERBIRD.replace("\n", "\r\n")) == "Спасибо, помогло."


def test_long_lines_do_not_make_it_slow():
    # The library's header patterns are quadratic in line length; a line like this one took
    # it about ten seconds on its own. The bound is loose on purpose.
    started = time.monotonic()
    visible_reply("On " + "a" * 200_000 + "\n" + ("On " + "b" * 5_000 + "\n") * 50)
    assert time.monotonic() - started < 3
