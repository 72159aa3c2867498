"""Repair issues for what only the user can fix, at the printer.

The protocol clients report such conditions as ``PrinterState.notices``;
this module mirrors them into Home Assistant's issue registry, one issue per
notice and config entry, and removes them when the printer stops reporting
them, when the entry is unloaded and when it is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .printers import PrinterNotice


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeIssue:
    """How one printer notice is shown as a repair issue."""

    severity: ir.IssueSeverity
    learn_more_url: str | None = None


ISSUES: Final[dict[PrinterNotice, NoticeIssue]] = {
    PrinterNotice.DEVELOPER_MODE_REQUIRED: NoticeIssue(
        severity=ir.IssueSeverity.WARNING,
        learn_more_url="https://wiki.bambulab.com/en/software/third-party-integration",
    ),
    PrinterNotice.LIVEVIEW_DISABLED: NoticeIssue(severity=ir.IssueSeverity.WARNING),
    PrinterNotice.FIRMWARE_TOO_OLD: NoticeIssue(severity=ir.IssueSeverity.ERROR),
    PrinterNotice.CONNECTION_SLOTS_EXHAUSTED: NoticeIssue(severity=ir.IssueSeverity.ERROR),
}


def issue_id(entry_id: str, notice: PrinterNotice) -> str:
    """The issue registry id of one notice of one entry."""
    return f"{notice.value}_{entry_id}"


@callback
def async_sync_issues(
    hass: HomeAssistant, entry: ConfigEntry, notices: frozenset[PrinterNotice]
) -> None:
    """Create an issue for each notice the printer reports; delete the others."""
    for notice, issue in ISSUES.items():
        if notice in notices:
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id(entry.entry_id, notice),
                is_fixable=False,
                severity=issue.severity,
                learn_more_url=issue.learn_more_url,
                translation_key=notice.value,
                translation_placeholders={"name": entry.title},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id(entry.entry_id, notice))


@callback
def async_delete_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Delete every issue of one entry (unload, removal)."""
    for notice in ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, notice))
