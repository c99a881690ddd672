"""Notifications: in the app (the bell, /notifications/) and by mail (the outbox, /admin/outbox).

For other domains (assignments, reminders) the API is small:

- `services.notify(user, kind, params, link, *, dedupe_key, optional=False, mail=True) -> bool`
  tells a person about something once per `dedupe_key`; `texts` lists each kind's parameters.
- `delivery.deliver_outbox(now=None, limit=500) -> DeliveryReport` sends the queued mails (the
  scheduler's `tasks.JOBS` and `flask notifications deliver` call it).

Everything else serves this package's own pages. The domain imports the kernel and `people` only.
"""
