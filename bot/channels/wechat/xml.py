"""Parse and build WeChat / WeCom callback XML, safely.

WeChat posts a flat document: an `<xml>` root whose children are the fields, text in CDATA::

    <xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[openid]]></FromUserName>
    <CreateTime>1409735669</CreateTime><MsgType><![CDATA[text]]></MsgType>
    <Content><![CDATA[你好]]></Content><MsgId>6054768590064713728</MsgId></xml>

Events (`MsgType` `event`) carry `Event` (`subscribe`, `unsubscribe`, `CLICK`, …) and usually
`EventKey` but no `MsgId`; voice carries `Recognition` when speech recognition is on; WeCom adds
`AgentID`. In safe mode the outer document holds only `Encrypt` (and `ToUserName`); the decrypted
text is another such document.

The body comes from the internet, so `parse_xml` refuses DTDs, entity declarations and
external references (no XXE, no billion laughs), an empty body, a body over 1 MB and any root
other than `<xml>`, all as `XmlError`. Builders put text in CDATA with `]]>` split so that a
user's text can never close the section early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree

__all__ = [
    "MAX_BODY_BYTES",
    "WeChatMessage",
    "XmlError",
    "cdata",
    "parse_message",
    "parse_xml",
    "text_reply",
]

MAX_BODY_BYTES = 1024 * 1024
MAX_ADDRESS = 64

_DIGITS = re.compile(r"[0-9]{1,20}")
# Characters XML 1.0 cannot carry at all, not even in CDATA.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class XmlError(Exception):
    """The body is not acceptable WeChat XML (malformed, empty, hostile, too large)."""


def parse_xml(body: bytes) -> dict[str, str]:
    """Parse a WeChat XML body into a flat map of the root's children, tag -> text."""
    if len(body) > MAX_BODY_BYTES:
        raise XmlError("body too large")
    if not body.strip():
        raise XmlError("empty body")
    try:
        root: Element = defusedxml.ElementTree.fromstring(
            body, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (defusedxml.DefusedXmlException, ParseError, ValueError) as exc:
        raise XmlError(f"unacceptable XML: {type(exc).__name__}") from exc
    if root.tag != "xml":
        raise XmlError("root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        # The first occurrence of a repeated field wins.
        fields.setdefault(child.tag, child.text or "")
    return fields


@dataclass(frozen=True)
class WeChatMessage:
    """One inbound WeChat / WeCom message or event."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str  # text|voice|image|location|link|video|shortvideo|event|…
    content: str = ""
    msg_id: str | None = None
    event: str | None = None
    event_key: str | None = None
    recognition: str | None = None
    agent_id: str | None = None

    @property
    def dedup_key(self) -> str:
        """`msg:<FromUserName>:<MsgId>`, or for events (no MsgId)
        `evt:<FromUserName>:<CreateTime>:<Event>:<EventKey>`: the sender is part of every key
        (one sender's message id never answers another's), and so is the event's key (two
        menu clicks within one second are two messages)."""
        if self.msg_id:
            return f"msg:{self.from_user}:{self.msg_id}"
        kind = self.event if self.event is not None else self.msg_type
        return f"evt:{self.from_user}:{self.create_time}:{kind}:{self.event_key or ''}"


def _optional(fields: dict[str, str], tag: str) -> str | None:
    """The field's text, or None when it is missing or empty."""
    return fields.get(tag) or None


def parse_message(fields: dict[str, str]) -> WeChatMessage:
    """Build a `WeChatMessage` from `parse_xml`'s map; XmlError when required fields are bad."""
    missing = [t for t in ("ToUserName", "FromUserName", "MsgType") if not fields.get(t)]
    if missing:
        raise XmlError(f"missing fields: {', '.join(missing)}")
    too_long = [t for t in ("ToUserName", "FromUserName") if len(fields[t]) > MAX_ADDRESS]
    if too_long:  # an openid is 28 characters, a WeCom user id at most 64
        raise XmlError(f"{', '.join(too_long)} over {MAX_ADDRESS} characters")
    create_time = fields.get("CreateTime", "").strip()
    if not _DIGITS.fullmatch(create_time):
        raise XmlError("CreateTime is not an integer")
    return WeChatMessage(
        to_user=fields["ToUserName"],
        from_user=fields["FromUserName"],
        create_time=int(create_time),
        msg_type=fields["MsgType"],
        content=fields.get("Content", ""),
        msg_id=_optional(fields, "MsgId"),
        event=_optional(fields, "Event"),
        event_key=_optional(fields, "EventKey"),
        recognition=_optional(fields, "Recognition"),
        agent_id=_optional(fields, "AgentID"),
    )


def cdata(text: str) -> str:
    """Wrap `text` in CDATA, splitting any `]]>` and dropping characters XML cannot carry."""
    safe = _XML_ILLEGAL.sub("", text).replace("]]>", "]]]]><![CDATA[>")
    return f"<![CDATA[{safe}]]>"


def text_reply(*, to_user: str, from_user: str, content: str, create_time: int) -> str:
    """The passive text reply XML (to_user is the user's OpenID, from_user the account)."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )
