"""SES v2 gaps of moto, patched.

* Email identity tags are filed under a made-up ARN and read back empty: a perpetual diff.
* Configuration sets: ``SendingOptions`` comes back double-nested (the provider cannot decode it) and
  option groups never set come back as ``{}`` (a perpetual diff); event destinations are missing (HTTP
  404/500), so they are kept and echoed here (no events are generated from them).
* SendEmail keeps only the subject and one body part, dropping the text part when there is HTML, the
  headers (``List-Unsubscribe``), the configuration set and the tags, and accepts an unknown configuration
  set: all are kept on the sent message; an unknown set answers NotFound.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.ses.exceptions import NotFoundException
from moto.ses.models import ConfigurationSet
from moto.sesv2 import urls as sesv2_urls
from moto.sesv2.models import SESV2Backend
from moto.sesv2.responses import SESV2Response


def _patch_sesv2_identity_tags() -> None:
    """moto files an email identity's tags under ``...:email-identity/<name>``; the real ARN (the one the
    provider lists and tags) is ``...:identity/<name>``, so tags read back empty: a perpetual diff."""

    def moto_arn(arn: str) -> str:
        return re.sub(r"^(arn:[^:]+:ses:[^:]*:[^:]*:)identity/", r"\1email-identity/", arn)

    for method in ("list_tags_for_resource", "tag_resource", "untag_resource"):
        original = getattr(SESV2Backend, method)

        def translated(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            if "resource_arn" in kwargs:  # list_tags_for_resource is called by keyword
                kwargs["resource_arn"] = moto_arn(kwargs["resource_arn"])
            else:
                args = (moto_arn(args[0]), *args[1:])
            return _original(self, *args, **kwargs)

        setattr(SESV2Backend, method, translated)


def _patch_sesv2_configuration_set_options() -> None:
    """moto stores ``SendingOptions`` whole and answers ``{"SendingOptions": {"SendingEnabled":
    {"SendingEnabled": true}}}``: the provider cannot decode GetConfigurationSet (apply and destroy fail). It
    also answers ``{}`` for option groups never set, where SES omits them: a perpetual diff (empty
    ``tracking_options``/``vdm_options`` blocks) on re-plan."""

    original = ConfigurationSet.to_dict_v2

    def to_dict_v2(self: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {key: value for key, value in original(self).items() if value != {}}
        enabled = self.enabled.get("SendingEnabled", True) if isinstance(self.enabled, dict) else self.enabled
        answer["SendingOptions"] = {"SendingEnabled": bool(enabled)}
        return answer

    ConfigurationSet.to_dict_v2 = to_dict_v2


def _patch_sesv2_event_destinations() -> None:
    """moto's SES v2 has no configuration set event destinations (HTTP 500 on Create): kept per
    configuration set, echoed back as given, with SES's NotFound/AlreadyExists answers. Events are not
    generated from them: a test publishes SES's event JSON to the destination topic itself."""

    def destinations(response: Any) -> dict[str, dict[str, Any]]:
        name = response._get_param("ConfigurationSetName")
        if name not in response.sesv2_backend.core_backend.config_sets:
            raise NotFoundException(f"Configuration set <{name}> does not exist.")
        config_set = response.sesv2_backend.core_backend.config_sets[name]
        found: dict[str, dict[str, Any]] = config_set.__dict__.setdefault("event_destinations_v2", {})
        return found

    def existing(response: Any) -> tuple[dict[str, dict[str, Any]], str]:
        known, name = destinations(response), response._get_param("EventDestinationName")
        if name not in known:
            raise NotFoundException(f"Event destination {name} does not exist.")
        return known, name

    def create_configuration_set_event_destination(self: Any) -> str:
        known, params = destinations(self), json.loads(self.body)
        name = params["EventDestinationName"]
        if name in known:
            raise JsonRESTError("AlreadyExistsException", f"Event destination {name} already exists.")
        known[name] = params["EventDestination"]
        return "{}"

    def get_configuration_set_event_destinations(self: Any) -> str:
        found = [{"Name": name, **spec} for name, spec in destinations(self).items()]
        return json.dumps({"EventDestinations": found})

    def update_configuration_set_event_destination(self: Any) -> str:
        known, name = existing(self)
        known[name] = json.loads(self.body)["EventDestination"]
        return "{}"

    def delete_configuration_set_event_destination(self: Any) -> str:
        known, name = existing(self)
        del known[name]
        return "{}"

    # The Flask server only routes paths listed in the service's urls module (read when the app is built).
    base = "{0}/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations"
    sesv2_urls.url_paths[f"{base}$"] = SESV2Response.dispatch
    sesv2_urls.url_paths[f"{base}/(?P<EventDestinationName>[^/]+)$"] = SESV2Response.dispatch
    for handler in (
        create_configuration_set_event_destination,
        get_configuration_set_event_destinations,
        update_configuration_set_event_destination,
        delete_configuration_set_event_destination,
    ):
        setattr(SESV2Response, handler.__name__, handler)


def _patch_sesv2_send_email_fields() -> None:
    """moto's SES v2 SendEmail keeps only the subject and one body part (HTML when both are given) and drops
    ``Content.Simple.Headers``, ``ConfigurationSetName`` and ``EmailTags``; an unknown configuration set is
    accepted. The sent message also keeps ``text``, ``html``, ``headers`` (as sent: a list of Name/Value),
    ``configuration_set_name`` and ``email_tags``, and an unknown configuration set answers NotFound as SES
    does."""

    original = SESV2Response.send_email

    def send_email(self: Any) -> str:
        params = json.loads(self.body)
        core = self.sesv2_backend.core_backend
        config_set = params.get("ConfigurationSetName")
        if config_set and config_set not in core.config_sets:
            raise NotFoundException(f"Configuration set <{config_set}> does not exist.")
        answer: str = original(self)
        message_id = json.loads(answer)["MessageId"]
        message = next(m for m in reversed(core.sent_messages) if m.id == message_id)
        simple = params["Content"].get("Simple", {})
        body = simple.get("Body", {})
        message.text = body.get("Text", {}).get("Data")
        message.html = body.get("Html", {}).get("Data")
        message.headers = simple.get("Headers", [])
        message.configuration_set_name = config_set
        message.email_tags = params.get("EmailTags", [])
        return answer

    SESV2Response.send_email = send_email


# Applied by ``tools.emulator.server.apply_patches``, in this order.
PATCHES: tuple[Callable[[], None], ...] = (
    _patch_sesv2_identity_tags,
    _patch_sesv2_configuration_set_options,
    _patch_sesv2_event_destinations,
    _patch_sesv2_send_email_fields,
)
