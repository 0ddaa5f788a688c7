"""E-mail in and out: mailboxes, intake (SMTP, IMAP, inbound POST), threading and parsing."""
