"""Config flow: add a printer of any kind, reauthenticate, reconfigure, options."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import (
    CONF_API_KEY,
    CONF_HOST,
    CONF_NAME,
    CONF_PORT,
    CONF_URL,
)
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.helpers.typing import DiscoveryInfoType
import voluptuous as vol

from .addon import AddonInfo, DetectionAuthError, DetectionClient, DetectionError
from .client import async_create_client
from .compat import OptionsFlowBase
from .const import (
    CAMERA_MODES,
    CAMERA_STREAM,
    CONF_CAMERA_PORT,
    CONF_KIND,
    CONF_MODEL,
    CONF_SERIAL,
    DOMAIN,
    KIND_ADDON,
    KIND_FARM,
    LOGGER,
    OPTION_CAMERA,
    OPTION_POLL_INTERVAL,
    camera_mode,
)
from .coordinator import PrintfarmConfigEntry
from .farm import FARM_TITLE, FARM_UNIQUE_ID, is_farm_entry
from .forms import (
    ADDON_KEY_SCHEMA,
    ADDON_SCHEMA,
    SECONDS,
    addon_address,
    carried,
    flatten,
    form_schema,
    suggested_values,
)
from .printers import (
    PrinterAuthError,
    PrinterError,
    PrinterInfo,
    PrinterKind,
    PrinterProtocolError,
    Reason,
    descriptor_for,
)
from .printers.octoprint.flavour import probe_flavour

CONNECT_TIMEOUT = 30.0
APP_NAME = "Home Assistant (printfarm)"
#: Reasons with a form error of their own (the rest: cannot connect, or not a printer).
FORM_ERRORS: dict[Reason, str] = {
    Reason.FIRMWARE_TOO_OLD: "firmware_too_old",
    Reason.NOT_OCTOPRINT: "not_octoprint",
    Reason.NO_FREE_SLOT: "connection_slots",
    Reason.CERTIFICATE: "certificate",
}
#: zeroconf service types whose kind is known from the type alone.
ZEROCONF_KINDS = {"_moonraker._tcp.local.": PrinterKind.MOONRAKER}

ADDON_TITLE = "printfarm detection"
ADDON_MENU = "addon"


class PrintfarmConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add one printer per entry."""

    VERSION = 1

    def __init__(self) -> None:
        """Start empty."""
        self._data: dict[str, Any] = {}
        self._pairing: asyncio.Task[dict[str, str]] | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: PrintfarmConfigEntry) -> PrintfarmOptionsFlow:
        """Options: camera, and poll interval where a kind polls."""
        return PrintfarmOptionsFlow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Printers have options; the detection add-on's and the farm's entries have none."""
        return config_entry.data.get(CONF_KIND) not in (KIND_ADDON, KIND_FARM)

    async def _async_try_connect(
        self, data: Mapping[str, Any]
    ) -> tuple[PrinterInfo | None, dict[str, str]]:
        """Connect once; return the printer's identity or the form errors."""
        client = async_create_client(self.hass, data)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await client.connect()
        except PrinterAuthError:
            return None, {"base": "invalid_auth"}
        except PrinterError as err:
            other = "not_a_printer" if isinstance(err, PrinterProtocolError) else "cannot_connect"
            return None, {"base": FORM_ERRORS.get(err.reason, other)}
        except TimeoutError:
            return None, {"base": "cannot_connect"}
        except Exception:  # noqa: BLE001 - any bug must show as "unknown", not a crash
            LOGGER.exception("Unexpected error while adding a printer")
            return None, {"base": "unknown"}
        else:
            return client.info, {}
        finally:
            await client.close()

    # ------------------------------------------------------------- user

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick the kind of printer."""
        return self.async_show_menu(
            step_id="user", menu_options=[*(k.value for k in PrinterKind), ADDON_MENU]
        )

    async def async_step_bambu(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Bambu Lab in LAN mode."""
        return await self._async_step_kind(PrinterKind.BAMBU, user_input)

    async def async_step_moonraker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Klipper through Moonraker."""
        return await self._async_step_kind(PrinterKind.MOONRAKER, user_input)

    async def async_step_octoprint(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """OctoPrint (API key, or approval in OctoPrint when left empty)."""
        return await self._async_step_kind(PrinterKind.OCTOPRINT, user_input)

    async def async_step_prusalink(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Prusa printers with PrusaLink."""
        return await self._async_step_kind(PrinterKind.PRUSALINK, user_input)

    async def async_step_elegoo(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Elegoo SDCP printers."""
        return await self._async_step_kind(PrinterKind.ELEGOO, user_input)

    async def _async_step_kind(
        self, kind: PrinterKind, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**carried(kind, self._data), CONF_KIND: kind.value, **flatten(user_input)}
            descriptor = descriptor_for(kind)
            if descriptor.pairing and not any(data.get(k) for k in descriptor.credentials):
                # no credential given: the printer hands one out once the user approves there
                self._data = data
                return await self.async_step_app_key()
            info, errors = await self._async_try_connect(data)
            if info is not None:
                return await self._async_create(info, data)
        schema = self.add_suggested_values_to_schema(
            form_schema(kind), user_input or suggested_values(kind, self._data)
        )
        return self.async_show_form(step_id=kind.value, data_schema=schema, errors=errors)

    async def _async_create(self, info: PrinterInfo, data: dict[str, Any]) -> ConfigFlowResult:
        # A user who adds by hand a printer whose "Discovered" card is still open wins;
        # Home Assistant closes the discovery flow once this entry exists.
        await self.async_set_unique_id(info.unique_id, raise_on_progress=False)
        self._abort_if_unique_id_configured(
            updates={k: data[k] for k in (CONF_HOST, CONF_PORT) if k in data}
        )
        return self.async_create_entry(title=info.name, data=data)

    # ------------------------------------------------------------ pairing

    async def async_step_app_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Wait while the user approves Home Assistant at the printer (OctoPrint's app keys)."""
        if self._pairing is None:
            self._pairing = self.hass.async_create_task(self._async_pair())
        if not self._pairing.done():
            return self.async_show_progress(
                step_id="app_key",  # also reached from the kind's own step
                progress_action="app_key",
                progress_task=self._pairing,
                description_placeholders={"host": self._data[CONF_HOST]},
            )
        task, self._pairing = self._pairing, None
        try:
            self._data.update(task.result())
        except PrinterAuthError:
            return self.async_show_progress_done(next_step_id="app_key_denied")
        except PrinterError:
            return self.async_show_progress_done(next_step_id="app_key_failed")
        return self.async_show_progress_done(next_step_id="app_key_granted")

    async def _async_pair(self) -> dict[str, str]:
        """Ask the printer for a credential; the client waits for the user's decision."""
        client = async_create_client(self.hass, self._data)
        try:
            return await client.pair(APP_NAME)
        finally:
            await client.close()

    async def async_step_app_key_granted(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The key arrived: connect with it."""
        info, errors = await self._async_try_connect(self._data)
        if info is None:
            return self.async_abort(reason=errors["base"])
        return await self._async_create(info, self._data)

    async def async_step_app_key_denied(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Denied or expired in OctoPrint: offer the form again with an error."""
        return self._async_show_kind_form("app_key_denied")

    async def async_step_app_key_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """OctoPrint could not be asked (unreachable, no App Keys plugin, rate limit)."""
        return self._async_show_kind_form("app_key_failed")

    def _async_show_kind_form(self, error: str) -> ConfigFlowResult:
        kind = PrinterKind(self._data[CONF_KIND])
        return self.async_show_form(
            step_id=kind.value,
            data_schema=self.add_suggested_values_to_schema(form_schema(kind), self._data),
            errors={"base": error},
        )

    # ---------------------------------------------------------- discovery

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """Moonraker, OctoPrint or Prusa-Link announced itself over mDNS."""
        host = discovery_info.host
        port = discovery_info.port or 80
        kind = ZEROCONF_KINDS.get(discovery_info.type)
        if kind is None:
            # _octoprint._tcp: OctoPrint, Prusa-Link or Moonraker's OctoPrint emulation.
            flavour = await probe_flavour(async_get_clientsession(self.hass), host, port)
            kind = None if flavour == "unknown" else PrinterKind(flavour)
        if kind is None:
            return self.async_abort(reason="not_a_printer")
        descriptor = descriptor_for(kind)
        name = discovery_info.name.split(".", 1)[0]
        data = {CONF_KIND: kind.value, CONF_HOST: host, CONF_PORT: port}
        unique_id = None
        uuid = discovery_info.properties.get("uuid")
        if descriptor.announces_identity and isinstance(uuid, str) and uuid:
            # the announcement carries the identity the client reads once connected:
            # the entry follows the server's address
            unique_id = uuid.lower()
        elif not descriptor.identity_needs_credentials:
            # Servers that answer without credentials tell their own identity.
            info, _errors = await self._async_try_connect(data)
            unique_id = info.unique_id if info else f"{host}:{port}"
        return await self._async_discovered(
            kind, {CONF_HOST: host, CONF_PORT: port}, unique_id=unique_id, name=name
        )

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """A Prusa printer (Prusa Research MAC prefix) joined the network."""
        return await self._async_discovered(
            PrinterKind.PRUSALINK,
            {CONF_HOST: discovery_info.ip},
            unique_id=None,
            name=discovery_info.hostname,
        )

    async def async_step_integration_discovery(
        self, discovery_info: DiscoveryInfoType
    ) -> ConfigFlowResult:
        """Found by printfarm's own probes (Bambu SSDP on UDP 2021, Elegoo SDCP on UDP 3000)."""
        kind = PrinterKind(discovery_info[CONF_KIND])
        data = {
            k: v
            for k, v in discovery_info.items()
            if k in (CONF_HOST, CONF_PORT, CONF_SERIAL, CONF_CAMERA_PORT, CONF_MODEL, CONF_NAME)
        }
        name = discovery_info.get(CONF_NAME) or discovery_info.get(CONF_MODEL)
        return await self._async_discovered(
            kind,
            data,
            unique_id=str(discovery_info["unique_id"]),
            name=str(name or discovery_info[CONF_HOST]),
        )

    async def _async_discovered(
        self, kind: PrinterKind, data: dict[str, Any], *, unique_id: str | None, name: str
    ) -> ConfigFlowResult:
        if unique_id is not None:
            await self.async_set_unique_id(unique_id)
            self._abort_if_unique_id_configured(updates={CONF_HOST: data[CONF_HOST]})
        else:
            # Identity needs credentials (PrusaLink serial): match on the address.
            self._async_abort_entries_match({CONF_HOST: data[CONF_HOST]})
        self._data = {CONF_KIND: kind.value, **data}
        self.context["title_placeholders"] = {"name": name}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the discovered printer; then ask for what discovery cannot know."""
        if user_input is None:
            return self.async_show_form(
                step_id="discovery_confirm",
                description_placeholders={
                    "name": self.context["title_placeholders"]["name"],
                    "host": self._data[CONF_HOST],
                },
            )
        kind = PrinterKind(self._data[CONF_KIND])
        return await self._async_step_kind(kind, None)

    # ---------------------------------------------------- detection add-on

    async def _async_try_addon(
        self, url: str, api_key: str
    ) -> tuple[AddonInfo | None, dict[str, str]]:
        """Ask the add-on who it is; its info or the form errors."""
        client = DetectionClient(async_get_clientsession(self.hass), url, api_key)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                return await client.info(), {}
        except DetectionAuthError:
            return None, {"base": "addon_invalid_auth"}
        except (DetectionError, TimeoutError):
            return None, {"base": "addon_cannot_connect"}

    async def async_step_addon(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The detection add-on by URL and API key (installs without the Supervisor)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            url = str(user_input[CONF_URL]).strip().rstrip("/")
            key = str(user_input[CONF_API_KEY]).strip()
            info, errors = await self._async_try_addon(url, key)
            if info is not None:
                await self.async_set_unique_id(info.uuid, raise_on_progress=False)
                self._abort_if_unique_id_configured(updates={CONF_URL: url, CONF_API_KEY: key})
                return self.async_create_entry(
                    title=ADDON_TITLE,
                    data={CONF_KIND: KIND_ADDON, CONF_URL: url, CONF_API_KEY: key},
                )
        return self.async_show_form(
            step_id="addon",
            data_schema=self.add_suggested_values_to_schema(ADDON_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def async_step_system(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The farm's own entry, started by the integration with the first printer."""
        await self.async_set_unique_id(FARM_UNIQUE_ID)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=FARM_TITLE, data={CONF_KIND: KIND_FARM})

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced itself through the Supervisor."""
        config = discovery_info.config
        host, port, key = config.get("host"), config.get("port"), config.get("api_key")
        if not isinstance(host, str) or not isinstance(port, int) or not isinstance(key, str):
            return self.async_abort(reason="addon_invalid_discovery")
        url = f"http://{host}:{port}"
        unique_id = str(config.get("uuid") or discovery_info.uuid or discovery_info.slug)
        await self.async_set_unique_id(unique_id)
        self._abort_if_unique_id_configured(updates={CONF_URL: url, CONF_API_KEY: key})
        self._data = {CONF_KIND: KIND_ADDON, CONF_URL: url, CONF_API_KEY: key}
        self.context["title_placeholders"] = {"name": discovery_info.name or ADDON_TITLE}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm connecting the discovered add-on."""
        errors: dict[str, str] = {}
        if user_input is not None:
            info, errors = await self._async_try_addon(
                self._data[CONF_URL], self._data[CONF_API_KEY]
            )
            if info is not None:
                return self.async_create_entry(title=ADDON_TITLE, data=self._data)
        return self.async_show_form(
            step_id="hassio_confirm",
            errors=errors,
            description_placeholders={"name": self.context["title_placeholders"]["name"]},
        )

    # ------------------------------------------------------------- reauth

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The printer refused the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the credentials again."""
        entry = self._get_reauth_entry()
        if entry.data.get(CONF_KIND) == KIND_ADDON:
            return await self._async_step_addon_key(entry, user_input)
        kind = PrinterKind(entry.data[CONF_KIND])
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**carried(kind, entry.data, only_credentials=True), **flatten(user_input)}
            info, errors = await self._async_try_connect(data)
            if info is not None:
                await self.async_set_unique_id(info.unique_id, raise_on_progress=False)
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=form_schema(kind, only_credentials=True),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    # -------------------------------------------------------- reconfigure

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change host and credentials without re-adding the printer."""
        entry = self._get_reconfigure_entry()
        if is_farm_entry(entry):
            return self.async_abort(reason="farm_not_configurable")
        if entry.data.get(CONF_KIND) == KIND_ADDON:
            return await self._async_reconfigure_addon(entry, user_input)
        kind = PrinterKind(entry.data[CONF_KIND])
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**carried(kind, entry.data), **flatten(user_input)}
            info, errors = await self._async_try_connect(data)
            if info is not None:
                await self.async_set_unique_id(info.unique_id, raise_on_progress=False)
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                form_schema(kind), user_input or suggested_values(kind, entry.data)
            ),
            errors=errors,
        )

    async def _async_step_addon_key(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """The add-on refused its key: ask for the current one."""
        errors: dict[str, str] = {}
        if user_input is not None:
            key = str(user_input[CONF_API_KEY]).strip()
            info, errors = await self._async_try_addon(entry.data[CONF_URL], key)
            if info is not None:
                return self.async_update_reload_and_abort(
                    entry, data={**entry.data, CONF_API_KEY: key}
                )
        return self.async_show_form(
            step_id="reauth_addon",
            data_schema=ADDON_KEY_SCHEMA,
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def _async_reconfigure_addon(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Change the add-on's URL or key."""
        errors: dict[str, str] = {}
        if user_input is not None:
            address = addon_address(user_input)
            info, errors = await self._async_try_addon(address[CONF_URL], address[CONF_API_KEY])
            if info is not None:
                await self.async_set_unique_id(info.uuid, raise_on_progress=False)
                self._abort_if_unique_id_mismatch(reason="different_device")
                return self.async_update_reload_and_abort(entry, data={**entry.data, **address})
        return self.async_show_form(
            step_id="reconfigure_addon",
            data_schema=self.add_suggested_values_to_schema(
                ADDON_SCHEMA, user_input or {CONF_URL: entry.data.get(CONF_URL)}
            ),
            errors=errors,
        )

    async def async_step_reauth_addon(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The add-on's new-key form posts here."""
        return await self._async_step_addon_key(self._get_reauth_entry(), user_input)

    async def async_step_reconfigure_addon(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The add-on's reconfigure form posts here."""
        return await self._async_reconfigure_addon(self._get_reconfigure_entry(), user_input)


class PrintfarmOptionsFlow(OptionsFlowBase):
    """Camera mode; poll interval for kinds that poll. New options reload the entry."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        kind = PrinterKind(self.config_entry.data[CONF_KIND])
        schema: dict[vol.Marker, Any] = {
            vol.Required(OPTION_CAMERA, default=CAMERA_STREAM): SelectSelector(
                SelectSelectorConfig(
                    options=list(CAMERA_MODES),
                    translation_key=OPTION_CAMERA,
                    mode=SelectSelectorMode.LIST,
                )
            ),
        }
        descriptor = descriptor_for(kind)
        if descriptor.polls:
            default = round(descriptor.poll_interval)
            schema[vol.Required(OPTION_POLL_INTERVAL, default=default)] = SECONDS
        options = self.config_entry.options
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(schema), {**options, OPTION_CAMERA: camera_mode(options)}
            ),
        )
