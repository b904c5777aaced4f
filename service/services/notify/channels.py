"""The push channels: e-mail over SMTP and an HMAC-signed JSON webhook for SMS / WeChat gateways.

Each send raises DeliveryFailed with a short reason; `permanent` failures (a malformed address,
a 4xx the gateway will answer the same way again) are not retried.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from service.config import Settings
from service.models import Delivery, Notification

SIGNATURE_HEADER = "X-Gradflow-Signature"
TIMESTAMP_HEADER = "X-Gradflow-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.permanent = permanent


def message_id(note: Notification, settings: Settings) -> str:
    """The stable Message-ID: the same for every attempt, so a receiving side can drop a repeat."""
    domain = (settings.smtp_sender.rpartition("@")[2] or "gradflow.local").strip(">") or "gradflow.local"
    return f"<{note.uid}@{domain}>"


class EmailChannel:
    """One SMTP connection reused for a batch of messages; opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.smtp_security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
                if s.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP connection to {s.smtp_host}:{s.smtp_port} failed: {exc}") from None
        return smtp

    def send(self, delivery: Delivery, note: Notification, school_name: str) -> None:
        msg = EmailMessage()
        msg["From"] = formataddr((school_name or "gradflow", self.settings.smtp_sender))
        msg["To"] = delivery.address
        msg["Subject"] = note.subject
        msg["Message-ID"] = message_id(note, self.settings)
        msg["Date"] = format_datetime(note.created_at.replace(tzinfo=UTC))
        msg["X-Gradflow-Kind"] = note.kind
        msg.set_content(note.body)
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipient refused: {exc.recipients}", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryFailed(f"SMTP send failed: {exc}") from None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


def webhook_payload(delivery: Delivery, note: Notification) -> dict[str, Any]:
    return {
        "id": note.uid, "kind": note.kind, "school": note.school_id, "recipient": note.recipient,
        "user_id": note.user_id, "record_id": note.record_id, "phone": delivery.address,
        "subject": note.subject, "body": note.body, "created_at": note.created_at.isoformat() + "Z",
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookChannel:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, delivery: Delivery, note: Notification, school_name: str) -> None:
        s = self.settings
        body = json.dumps(webhook_payload(delivery, note), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(s.webhook_url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", IDEMPOTENCY_HEADER: note.uid,
            TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(s.webhook_secret, timestamp, body),
            "User-Agent": "gradflow-notify"})
        try:
            with urllib.request.urlopen(request, timeout=s.webhook_timeout) as response:  # noqa: S310 (configured URL)
                response.read(1024)
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 409, 425, 429)
            raise DeliveryFailed(f"webhook answered HTTP {exc.code}", permanent=permanent) from None
        except (OSError, ValueError) as exc:
            raise DeliveryFailed(f"webhook call failed: {exc}") from None

    def close(self) -> None:
        pass
