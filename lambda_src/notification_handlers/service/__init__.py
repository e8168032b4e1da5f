"""The notification service: router, channel workers and the modules they share.

Design and contracts: docs/notification-service.md. Handler settings point at the modules, e.g.
``notification_handlers.service.router.handler``.
"""
