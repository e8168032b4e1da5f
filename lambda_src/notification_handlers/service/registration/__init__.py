"""The registration API's parts: HTTP plumbing (``http_api``), request parsing (``request``), the shared AWS
edge (``edge``) and one module per resource; the Lambda entry point is ``service.registration_api``."""
