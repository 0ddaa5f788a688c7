import random
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk_api.mail.parsing import Address, ParsedMail, UnparseableMail, parse_message


def crlf(text: str) -> bytes:
    """A literal message written with \\n, sent as the wire has it."""
    return text.replace("\n", "\r\n").encode()


def plain_message(body: str = "Hello,\nmy printer is on fire.\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Anna Bianchi <Anna.Bianchi@Example.COM>"
    msg["To"] = "Support <support@helpdesk.example>, other@example.org"
    msg["Cc"] = "boss@example.org"
    msg["Subject"] = "Printer   on\tfire"
    msg["Date"] = "Mon, 03 Mar 2025 10:12:00 +0100"
    msg["Message-ID"] = "<abc.123@mail.example.com>"
    msg.set_content(body)
    return msg


def test_plain_message_fields():
    parsed = parse_message(plain_message().as_bytes())

    assert parsed.sender == Address(email="anna.bianchi@example.com", name="Anna Bianchi")
    assert parsed.to == [
        Address(email="support@helpdesk.example", name="Support"),
        Address(email="other@example.org", name=None),
    ]
    assert parsed.cc == [Address(email="boss@example.org", name=None)]
    assert parsed.subject == "Printer on fire"
    assert parsed.date == datetime(2025, 3, 3, 10, 12, tzinfo=timezone(timedelta(hours=1)))
    assert parsed.message_id == "abc.123@mail.example.com"
    assert parsed.text == "Hello,\nmy printer is on fire."
    assert parsed.html is None
    assert parsed.attachments == []
    assert parsed.automatic is None
    assert parsed.dropped == []
    assert parsed.headers["subject"] == "Printer on fire"
    assert parsed.headers["message-id"] == "<abc.123@mail.example.com>"
    assert set(parsed.headers) == {"from", "to", "cc", "subject", "date", "message-id"}


def test_html_only_message_gets_text_from_html_and_sanitised_html():
    msg = plain_message()
    msg.set_content(
        "<html><head><style>p {color: red}</style></head><body><p>Hello <b>team</b>,</p>"
        "<p>the export <a href='javascript:alert(1)'>fails</a>.</p>"
        "<script>alert('x')</script></body></html>",
        subtype="html",
    )

    parsed = parse_message(msg.as_bytes())

    assert "Hello team," in parsed.text
    assert "the export fails." in parsed.text
    assert "alert" not in parsed.text
    assert "color" not in parsed.text
    assert parsed.html is not None
    assert "<script" not in parsed.html
    assert "javascript:" not in parsed.html
    assert "<b>team</b>" in parsed.html


def test_multipart_alternative_takes_text_part_and_keeps_html():
    msg = plain_message("Plain version")
    msg.add_alternative("<p>HTML <i>version</i></p>", subtype="html")

    parsed = parse_message(msg.as_bytes())

    assert parsed.text == "Plain version"
    assert parsed.html == "<p>HTML <i>version</i></p>"
    assert parsed.attachments == []


def test_attachment_and_inline_cid_image():
    msg = plain_message("See the logo.")
    msg.add_alternative('<p>See the logo: <img src="cid:logo.123@example.com"></p>', subtype="html")
    msg.get_payload()[1].add_related(
        b"\x89PNG fake", maintype="image", subtype="png", cid="<logo.123@example.com>"
    )
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="invoice.pdf")

    parsed = parse_message(msg.as_bytes())

    assert parsed.text == "See the logo."
    image, pdf = parsed.attachments
    assert image.content_type == "image/png"
    assert image.content == b"\x89PNG fake"
    assert image.content_id == "logo.123@example.com"
    assert image.inline is True
    assert image.filename == "attachment-1.png"
    assert pdf.filename == "invoice.pdf"
    assert pdf.content_type == "application/pdf"
    assert pdf.content == b"%PDF-1.4"
    assert pdf.inline is False
    assert pdf.content_id is None


def test_rfc2047_subject_in_cyrillic():
    raw = crlf(
        "From: ivan@example.ru\n"
        "Subject: =?utf-8?b?0JfQsNGP0LLQutCwOiDQvdC1INGA0LDQsdC+0YLQsNC10YIg0LLRhdC+0LQ=?=\n"
        "\nТекст\n"
    )
    assert parse_message(raw).subject == "Заявка: не работает вход"


def test_rfc2047_subject_in_hungarian_latin2_split_over_folded_words():
    raw = crlf(
        "From: =?iso-8859-2?q?Kov=E1cs_=C9va?= <eva@example.hu>\n"
        "Subject: Re: =?iso-8859-2?q?=C1rv=EDzt=FBr=F5?=\n"
        " =?iso-8859-2?q?_t=FCk=F6rf=FAr=F3g=E9p?=\n"
        "\nSzia\n"
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Re: Árvíztűrő tükörfúrógép"
    assert parsed.sender == Address(email="eva@example.hu", name="Kovács Éva")


def test_raw_utf8_headers_are_decoded():
    raw = "From: Иван Петров <ivan@example.ru>\r\nSubject: Привет\r\n\r\nТекст".encode()
    parsed = parse_message(raw)
    assert parsed.subject == "Привет"
    assert parsed.sender == Address(email="ivan@example.ru", name="Иван Петров")
    assert parsed.text == "Текст"


def test_rfc2231_filename_is_decoded():
    raw = crlf(
        "From: a@example.com\n"
        "Content-Type: multipart/mixed; boundary=XX\n"
        "\n--XX\n"
        "Content-Type: text/plain\n"
        "\nsee attached\n"
        "--XX\n"
        "Content-Type: application/pdf\n"
        "Content-Disposition: attachment;\n"
        " filename*=UTF-8''%D1%81%D1%87%D1%91%D1%82%20%E2%84%961.pdf\n"
        "\n%PDF\n"
        "--XX--\n"
    )
    (attachment,) = parse_message(raw).attachments
    assert attachment.filename == "счёт №1.pdf"


def test_koi8r_body():
    raw = crlf("From: a@example.ru\nContent-Type: text/plain; charset=koi8-r\n\n") + (
        "Здравствуйте! Не работает вход.".encode("koi8-r")
    )
    assert parse_message(raw).text == "Здравствуйте! Не работает вход."


def test_windows1250_body():
    raw = crlf(
        "From: a@example.hu\n"
        'Content-Type: text/plain; charset="windows-1250"\n'
        "Content-Transfer-Encoding: 8bit\n\n"
    ) + "Szép napot! Árvíztűrő tükörfúrógép.".encode("cp1250")
    assert parse_message(raw).text == "Szép napot! Árvíztűrő tükörfúrógép."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Grazie, è tutto a posto".encode(), "Grazie, è tutto a posto"),
        ("Grazie, è tutto a posto".encode("latin-1"), "Grazie, è tutto a posto"),
        # windows-1252 quotes, a legacy client's favourite
        (b"\x93quoted\x94", "\u201cquoted\u201d"),
    ],
)
def test_unknown_charset_label_falls_back_to_utf8_then_windows_1252(body, expected):
    raw = crlf("From: a@example.it\nContent-Type: text/plain; charset=x-klingon\n\n") + body
    assert parse_message(raw).text == expected


@pytest.mark.parametrize("label", ["iso-8859-1", "us-ascii"])
def test_latin1_and_ascii_labels_are_read_as_utf8_or_windows_1252(label):
    # What such labels usually mean in practice, as browsers read them (WHATWG).
    raw = crlf(f"From: a@example.it\nContent-Type: text/plain; charset={label}\n\n")
    assert parse_message(raw + b"\x93caf\xe9\x94").text == "\u201ccafé\u201d"
    assert parse_message(raw + "“café”".encode()).text == "\u201ccafé\u201d"


def test_bytes_that_are_not_a_text_charset_are_no_charset():
    raw = crlf("From: a@example.it\nContent-Type: text/plain; charset=zlib\n\n") + b"plain"
    assert parse_message(raw).text == "plain"


def test_invalid_utf8_bytes_are_replaced():
    raw = crlf("From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\n") + (
        b"caf\xc3\xa9 \xff\xfe ok"
    )
    assert parse_message(raw).text == "café \ufffd\ufffd ok"


def test_control_characters_leave_the_body_but_lines_stay():
    raw = b"From: a@example.com\r\n\r\nline\x00one\x07\r\nline\ttwo\rthree"
    assert parse_message(raw).text == "lineone\nline\ttwo\nthree"


def test_bad_base64_attachment_does_not_fail_the_message():
    raw = crlf(
        "From: a@example.com\n"
        "Content-Type: multipart/mixed; boundary=XX\n"
        "\n--XX\n"
        "Content-Type: text/plain\n"
        "Content-Transfer-Encoding: base64\n"
        "\n!!! not base64 ***\n"
        "--XX\n"
        "Content-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: base64\n"
        "\nQUJD=RE\x00VG===\n"
        "--XX--\n"
    )
    parsed = parse_message(raw)
    assert len(parsed.attachments) == 1
    assert parsed.attachments[0].filename == "attachment-1.bin"


def test_random_binary_junk_is_parsed_or_refused():
    rng = random.Random(20250303)
    for _ in range(50):
        junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000)))
        outcome: ParsedMail | UnparseableMail
        try:
            outcome = parse_message(junk)
        except UnparseableMail as exc:
            outcome = exc
        assert isinstance(outcome, ParsedMail) or outcome.reason


def test_junk_after_headers_is_read_as_far_as_possible():
    raw = crlf("From: a@example.com\nSubject: junk\n\n") + bytes(range(256)) * 4
    parsed = parse_message(raw)
    assert parsed.subject == "junk"
    assert "\x00" not in parsed.text


@pytest.mark.parametrize("raw", [b"", b"  \r\n\r\n", b"\x00\x01\x02 no headers here"])
def test_nothing_readable_is_unparseable(raw):
    with pytest.raises(UnparseableMail):
        parse_message(raw)


def test_not_bytes_is_unparseable():
    with pytest.raises(UnparseableMail, match="expected bytes"):
        parse_message("From: a@example.com\r\n\r\nhi")  # type: ignore[arg-type]


def test_message_without_body_or_most_headers():
    parsed = parse_message(b"X-Whatever: 1\r\n\r\n")
    assert parsed.sender is None
    assert parsed.subject == ""
    assert parsed.date is None
    assert parsed.message_id is None
    assert parsed.text == ""
    assert parsed.to == []


def test_attachment_over_the_limit_is_dropped_and_reported():
    msg = plain_message("two files")
    msg.add_attachment(b"x" * 2000, maintype="application", subtype="zip", filename="big.zip")
    msg.add_attachment(b"y" * 10, maintype="text", subtype="plain", filename="small.txt")

    parsed = parse_message(msg.as_bytes(), max_attachment_bytes=1000)

    assert [a.filename for a in parsed.attachments] == ["small.txt"]
    (reason,) = parsed.dropped
    assert "big.zip" in reason
    assert "2000 bytes" in reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../../etc/passwd", "passwd"),
        ("C:\\Users\\evil\\..\\boot.ini", "boot.ini"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("..", "attachment-1.bin"),
        ("bomb\x00\x1f.zip", "bomb.zip"),
        ("  .hidden  ", "hidden"),
    ],
)
def test_attachment_names_are_reduced_to_safe_basenames(name, expected):
    msg = plain_message("file")
    msg.add_attachment(b"PK\x03\x04", maintype="application", subtype="octet-stream")
    msg.get_payload()[1].set_param("filename", name, header="Content-Disposition")

    (attachment,) = parse_message(msg.as_bytes()).attachments

    assert attachment.filename == expected


def test_long_zip_bomb_name_is_cut_to_255_bytes_keeping_the_extension():
    msg = plain_message("file")
    msg.add_attachment(
        b"PK\x03\x04", maintype="application", subtype="zip", filename="ő" * 5000 + ".zip"
    )

    (attachment,) = parse_message(msg.as_bytes()).attachments

    assert attachment.filename.endswith("ő.zip")
    assert len(attachment.filename.encode()) <= 255
    assert attachment.content == b"PK\x03\x04"  # a name, nothing unpacked


def test_header_injection_is_collapsed_to_one_line():
    raw = crlf(
        "From: =?utf-8?q?Eve=0D=0ABcc=3A_victim=40example=2Ecom?= <eve@example.com>\n"
        "Subject: =?utf-8?q?Hello=0D=0ABcc:_victim@example.com?=\n"
        "\nhi\n"
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Hello Bcc: victim@example.com"
    assert parsed.sender == Address(email="eve@example.com", name="Eve Bcc: victim@example.com")
    assert all("\n" not in value and "\r" not in value for value in parsed.headers.values())


def test_duplicated_headers_first_wins():
    raw = crlf(
        "From: first@example.com\n"
        "From: second@example.com\n"
        "Subject: one\n"
        "Subject: two\n"
        "Message-ID: <one@example.com>\n"
        "Message-ID: <two@example.com>\n"
        "\nhi\n"
    )
    parsed = parse_message(raw)
    assert parsed.sender == Address(email="first@example.com", name=None)
    assert parsed.subject == "one"
    assert parsed.message_id == "one@example.com"


def test_sender_falls_back_to_sender_then_return_path():
    assert parse_message(
        crlf("From: not an address\nSender: Helper <helper@example.com>\n\nx")
    ).sender == Address(email="helper@example.com", name="Helper")
    assert parse_message(crlf("Return-Path: <bounce@example.com>\n\nx")).sender == Address(
        email="bounce@example.com", name=None
    )


def test_message_id_normalisation():
    assert parse_message(crlf("Message-ID:   <Abc.1@Example.com>  \n\nx")).message_id == (
        "Abc.1@Example.com"
    )
    assert parse_message(crlf("Message-ID: bare.id@example.com\n\nx")).message_id == (
        "bare.id@example.com"
    )
    # Some MTAs fold inside a long id.
    assert parse_message(
        crlf("Message-ID: <very.long.id.part.one\n part.two@example.com>\n\nx")
    ).message_id == ("very.long.id.part.onepart.two@example.com")
    for garbage in ("not an id", "<>", "<no-at-sign>", "<@example.com>", "<caf\u00e9@example.com>"):
        raw = f"From: a@example.com\r\nMessage-ID: {garbage}\r\n\r\nx".encode()
        assert parse_message(raw).message_id is None, garbage


def test_huge_references_header_is_read_quickly():
    ids = " ".join(f"<id{i}@example.com>" for i in range(100_000))
    parsed = parse_message(crlf(f"From: a@example.com\nReferences: {ids}\n\nx"))
    assert len(parsed.references) == 100_000
    assert parsed.references[-1] == "id99999@example.com"


def test_references_keep_their_order_and_in_reply_to_ignores_comments():
    raw = crlf(
        "From: a@example.com\n"
        "In-Reply-To: <c@example.com> (Anna's message of Mon, 3 Mar 2025)\n"
        "References: <a@example.com> <b@example.com>\n"
        "  <a@example.com>\n"
        "\t<c@example.com>\n"
        "\nx\n"
    )
    parsed = parse_message(raw)
    assert parsed.references == ["a@example.com", "b@example.com", "c@example.com"]
    assert parsed.in_reply_to == ["c@example.com"]


def test_date_without_zone_is_utc_and_garbage_date_is_none():
    naive = parse_message(crlf("From: a@example.com\nDate: Mon, 3 Mar 2025 10:12:00 -0000\n\nx"))
    assert naive.date == datetime(2025, 3, 3, 10, 12, tzinfo=UTC)
    garbage = parse_message(crlf("From: a@example.com\nDate: Thu, 31 Feb 99999 99:99\n\nx"))
    assert garbage.date is None


def test_reply_to_is_read():
    raw = crlf("From: a@example.com\nReply-To: Team <TEAM@example.com>, b@example.com\n\nx")
    assert parse_message(raw).reply_to == [
        Address(email="team@example.com", name="Team"),
        Address(email="b@example.com", name=None),
    ]


@pytest.mark.parametrize(
    ("header", "reason_part"),
    [
        ("Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: auto-generated; owner-email=x@example.com", "auto-generated"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: JUNK", "Precedence: junk"),
        ("X-Autoreply: yes", "X-Autoreply"),
        ("X-Autorespond: yes", "X-Autorespond"),
        ("X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress"),
        ("List-Id: <users.lists.example.com>", "List-Id"),
        ("List-Unsubscribe: <mailto:leave@lists.example.com>", "List-Unsubscribe"),
        ("Return-Path: <>", "Return-Path"),
    ],
)
def test_machine_mail_is_marked_automatic(header, reason_part):
    parsed = parse_message(crlf(f"From: someone@example.com\n{header}\n\nI am away."))
    assert parsed.automatic is not None
    assert reason_part in parsed.automatic


@pytest.mark.parametrize("header", ["Auto-Submitted: no", "Precedence: first-class"])
def test_person_mail_is_not_automatic(header):
    assert parse_message(crlf(f"From: a@example.com\n{header}\n\nhi")).automatic is None


def test_mail_from_mailer_daemon_is_automatic():
    parsed = parse_message(crlf("From: MAILER-DAEMON@mx.example.com\n\nbounced"))
    assert parsed.automatic == "sent by mailer-daemon@mx.example.com"


def test_delivery_status_notification():
    raw = crlf(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n"
        "To: support@helpdesk.example\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n'
        "\n--B\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "\nYour message could not be delivered.\n"
        "--B\n"
        "Content-Type: message/delivery-status\n"
        "\nReporting-MTA: dns; mx.example.com\n"
        "\nFinal-Recipient: rfc822; nobody@example.org\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "--B\n"
        "Content-Type: message/rfc822\n"
        "\nFrom: support@helpdesk.example\n"
        "To: nobody@example.org\n"
        "Subject: Re: your ticket\n"
        "\nHello\n"
        "--B--\n"
    )
    parsed = parse_message(raw)
    assert parsed.automatic == "report (multipart/report; report-type=delivery-status)"
    assert parsed.text == "Your message could not be delivered."
    status, original = parsed.attachments
    assert status.content_type == "message/delivery-status"
    assert b"Status: 5.1.1" in status.content
    assert original.content_type == "message/rfc822"
    assert original.filename == "attachment-2.eml"
    assert b"Subject: Re: your ticket" in original.content


def test_forwarded_message_text_is_an_attachment_not_the_body():
    raw = crlf(
        "From: a@example.com\n"
        "Content-Type: multipart/mixed; boundary=B\n"
        "\n--B\n"
        "Content-Type: text/plain\n"
        "\nSee below.\n"
        "--B\n"
        "Content-Type: message/rfc822\n"
        "\nFrom: b@example.com\n"
        "Subject: inner\n"
        "\nInner text\n"
        "--B--\n"
    )
    parsed = parse_message(raw)
    assert parsed.text == "See below."
    assert parsed.attachments[0].content_type == "message/rfc822"


def test_deeply_nested_message_does_not_escape_as_another_exception():
    nested = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(60)
    )
    raw = b"From: a@example.com\r\n" + nested + b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    parsed = parse_message(raw)
    assert parsed.text == ""
    assert any("nested deeper" in reason for reason in parsed.dropped)


def test_html_nested_absurdly_deep_is_kept_as_text_only():
    # Sanitising 100,000 nested <div>s takes the sanitiser most of a minute.
    raw = crlf("From: a@example.com\nContent-Type: text/html\n\n") + (
        b"<div>" * 100_000 + b"deep &amp; text"
    )
    parsed = parse_message(raw)
    assert parsed.html is None
    assert parsed.text == "deep & text"
    assert any("nested deeper" in reason for reason in parsed.dropped)


def test_absurdly_long_headers_are_read_in_part():
    words = " ".join(["=?utf-8?b?0J/RgNC4?="] * 50_000)
    recipients = ", ".join(f"user{i}@example.com" for i in range(20_000))
    raw = crlf(f"From: {'(' * 50_000}a@example.com\nTo: {recipients}\nSubject: {words}\n\nx")

    parsed = parse_message(raw)

    assert parsed.sender is None
    assert parsed.subject.startswith("ПриПри")
    assert 0 < len(parsed.subject) < 50_000
    assert parsed.to[0] == Address(email="user0@example.com", name=None)
    assert len(parsed.to) < 20_000


_FRAGMENTS = [
    b"From: a@example.com\r\n",
    b"Subject: =?utf-8?b?",
    b"=?x-unknown?q?=E9?=",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"Content-Type: text/html; charset=zlib\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Disposition: attachment; filename*=utf-8''%FF%2F..\r\n",
    b"Content-ID: <x>\r\n",
    b"Date: Mon, 3 Mar 2025 99:99:99 +9999\r\n",
    b"References: <a@b> <<c@d>>\r\n",
    b"--x\r\n",
    b"--x--\r\n",
    b"\r\n",
    b"<img src='cid:x'>",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=40)), max_size=40).map(
            b"".join
        ),
    )
)
def test_any_bytes_parse_or_raise_unparseable_mail(raw):
    try:
        parsed = parse_message(raw)
    except UnparseableMail:
        return
    assert isinstance(parsed.text, str)
    parsed.text.encode()  # valid Unicode: no lone surrogates reach the database
    parsed.subject.encode()
    for attachment in parsed.attachments:
        attachment.filename.encode()
        assert 0 < len(attachment.filename.encode()) <= 255
