"""Lambda handlers that turn AWS events into human-readable notifications.

One package holds every handler so a single deployment zip serves all functions;
each function points its handler setting at its own module, e.g.
``notification_handlers.root_activity.handler``.
"""
