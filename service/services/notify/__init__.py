"""Notifications: tell students and reviewers what happened, and never lose a message.

- templates: the wording of each kind of message, per school, with Chinese defaults;
- outbox: writes a message (and one delivery per configured push channel) inside the caller's
  transaction, so a change that rolls back sends nothing and a committed one always sends;
- channels: e-mail over SMTP and a signed HTTP webhook, each off while not configured;
- sender: claims due deliveries, sends them, retries with backoff; at least once, stable ids;
- schedule: reminders before the deadline and the reviewers' daily digest;
- inbox: the in-app message centre; admin: the centre's log, retries, templates.
"""

from service.services.notify.outbox import configure, configured_channels

__all__ = ["configure", "configured_channels"]
