"""The Official Account's custom menu (`fuqing wechat-menu`): buttons send the menu keys that
`bot.commands.MENU_KEYS` maps to the same entries as the text menu."""

from __future__ import annotations

from bot import texts
from bot.commands import MENU_KEYS


def _click(key: str) -> dict[str, str]:
    return {"type": "click", "name": MENU_KEYS[key], "key": key}


def menu() -> dict[str, object]:
    """The custom-menu definition for /cgi-bin/menu/create."""
    return {
        "button": [
            _click("HELP_REQUEST"),
            _click("PROGRESS"),
            {
                "name": texts.t("menu.services"),
                "sub_button": [
                    _click("VISIT_REPORT"),
                    _click("HUMAN"),
                    _click("MENU"),
                    _click("DELETE_DATA"),
                ],
            },
        ]
    }
