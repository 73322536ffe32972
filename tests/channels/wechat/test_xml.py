"""WeChat XML: every message kind, dedup keys, hostile bodies, CDATA escaping and chunking."""

from __future__ import annotations

import pytest

from bot.channels.wechat.xml import (
    MAX_BODY_BYTES,
    XmlError,
    cdata,
    parse_message,
    parse_xml,
    text_reply,
)

HEAD = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>"
    "<CreateTime>1409735668</CreateTime>"
)


def body(fields: str) -> bytes:
    """A callback body from the common head and the given fields."""
    return (HEAD + fields + "</xml>").encode()


def test_text() -> None:
    """A text message: content, MsgId, both users and the time."""
    message = parse_message(
        parse_xml(
            body(
                "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我要求助]]></Content>"
                "<MsgId>6054768590064713728</MsgId>"
            )
        )
    )
    assert message.msg_type == "text" and message.content == "我要求助"
    assert message.msg_id == "6054768590064713728"
    assert message.to_user == "gh_10f6c3c3ac5a"
    assert message.from_user == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert message.create_time == 1409735668
    assert message.event is None and message.recognition is None and message.agent_id is None


def test_voice_with_recognition() -> None:
    """A voice message with speech recognition carries its text in `recognition`."""
    message = parse_message(
        parse_xml(
            body(
                "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m1]]></MediaId>"
                "<Format><![CDATA[amr]]></Format><Recognition><![CDATA[查询进度]]></Recognition>"
                "<MsgId>1</MsgId>"
            )
        )
    )
    assert message.msg_type == "voice" and message.recognition == "查询进度"


@pytest.mark.parametrize("recognition", ["", "<Recognition><![CDATA[]]></Recognition>"])
def test_voice_without_recognition(recognition: str) -> None:
    """A voice message with no or empty Recognition has recognition None."""
    message = parse_message(
        parse_xml(
            body(
                "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m1]]></MediaId>"
                f"<Format><![CDATA[amr]]></Format>{recognition}<MsgId>2</MsgId>"
            )
        )
    )
    assert message.msg_type == "voice" and message.recognition is None and message.content == ""


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        (
            "image",
            "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[m]]></MediaId>",
        ),
        (
            "location",
            "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y>"
            "<Scale>20</Scale><Label><![CDATA[位置信息]]></Label>",
        ),
        (
            "link",
            "<Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[d]]></Description>"
            "<Url><![CDATA[https://mp.weixin.qq.com]]></Url>",
        ),
    ],
)
def test_other_kinds(kind: str, fields: str) -> None:
    """Image, location and link messages parse with their type and MsgId, and no content."""
    raw = parse_xml(body(f"<MsgType><![CDATA[{kind}]]></MsgType>{fields}<MsgId>77</MsgId>"))
    message = parse_message(raw)
    assert message.msg_type == kind and message.msg_id == "77" and message.content == ""
    if kind == "location":
        assert raw["Label"] == "位置信息" and raw["Location_X"] == "23.134521"


@pytest.mark.parametrize(
    ("event", "key_xml", "key"),
    [
        ("subscribe", "<EventKey><![CDATA[]]></EventKey>", None),
        ("subscribe", "<EventKey><![CDATA[qrscene_123]]></EventKey>", "qrscene_123"),
        ("unsubscribe", "", None),
        ("CLICK", "<EventKey><![CDATA[MENU_HELP]]></EventKey>", "MENU_HELP"),
    ],
)
def test_events(event: str, key_xml: str, key: str | None) -> None:
    """subscribe / unsubscribe / CLICK events: the event, its key, no MsgId."""
    message = parse_message(
        parse_xml(
            body(f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{key_xml}")
        )
    )
    assert message.msg_type == "event" and message.event == event and message.event_key == key
    assert message.msg_id is None


def test_wecom_agent_id() -> None:
    """A WeCom message carries its AgentID."""
    message = parse_message(
        parse_xml(
            body(
                "<MsgType><![CDATA[text]]></MsgType><Content>hi</Content><MsgId>5</MsgId><AgentID>1000002</AgentID>"
            )
        )
    )
    assert message.agent_id == "1000002"


def test_dedup_keys() -> None:
    """Messages dedup on FromUserName and MsgId; events on FromUserName, CreateTime, Event and
    EventKey."""
    text = parse_message(
        parse_xml(body("<MsgType>text</MsgType><Content>x</Content><MsgId>42</MsgId>"))
    )
    click = parse_message(
        parse_xml(body("<MsgType>event</MsgType><Event>CLICK</Event><EventKey>K</EventKey>"))
    )
    assert text.dedup_key == "msg:oyORnuP8q7ou2gfYjqLzSIWZf0rs:42"
    assert click.dedup_key == "evt:oyORnuP8q7ou2gfYjqLzSIWZf0rs:1409735668:CLICK:K"


def test_two_menu_clicks_in_one_second_and_one_msgid_of_two_senders_are_distinct() -> None:
    """Two different menu clicks within one second are two events; the same MsgId from two
    senders is two messages (one sender's id never answers another's)."""
    clicks = [
        parse_message(
            parse_xml(body(f"<MsgType>event</MsgType><Event>CLICK</Event><EventKey>{k}</EventKey>"))
        )
        for k in ("HELP_REQUEST", "PROGRESS")
    ]
    assert clicks[0].dedup_key != clicks[1].dedup_key
    text = "<MsgType>text</MsgType><Content>x</Content><MsgId>42</MsgId>"
    other = body(text).replace(b"oyORnuP8q7ou2gfYjqLzSIWZf0rs", b"oOtherSender")
    assert parse_message(parse_xml(body(text))).dedup_key != (
        parse_message(parse_xml(other)).dedup_key
    )


def test_same_event_twice_has_the_same_key_and_another_event_not() -> None:
    """A retried event shares its key; another event at the same second does not."""
    sub = body("<MsgType>event</MsgType><Event>subscribe</Event>")
    unsub = body("<MsgType>event</MsgType><Event>unsubscribe</Event>")
    first, again = parse_message(parse_xml(sub)), parse_message(parse_xml(sub))
    assert first.dedup_key == again.dedup_key != parse_message(parse_xml(unsub)).dedup_key


@pytest.mark.parametrize(
    "xml",
    [
        "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
        "<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
        "<xml><ToUserName>a</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime></xml>",
        "<xml><ToUserName>a</ToUserName><FromUserName>u</FromUserName><MsgType>text</MsgType></xml>",
        "<xml><ToUserName>a</ToUserName><FromUserName>u</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>",
        "<xml><ToUserName>a</ToUserName><FromUserName>u</FromUserName><CreateTime>-5</CreateTime><MsgType>text</MsgType></xml>",
        "<xml><ToUserName></ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
    ],
)
def test_missing_or_bad_required_fields(xml: str) -> None:
    """Missing ToUserName/FromUserName/MsgType or a non-integer CreateTime → XmlError."""
    with pytest.raises(XmlError):
        parse_message(parse_xml(xml.encode()))


HOSTILE = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<xml><Content>&e;</Content></xml>",
    "billion_laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><xml><Content>&lol9;</Content></xml>",
    "external_dtd": b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">'
    b"<xml><Content>x</Content></xml>",
    "internal_entity": b'<!DOCTYPE xml [<!ENTITY a "b">]><xml><Content>&a;</Content></xml>',
    "malformed": b"<xml><Content>unclosed</xml>",
    "not_xml": b"hello wechat",
    "json": b'{"Content": "x"}',
    "empty": b"",
    "whitespace": b" \r\n\t ",
    "other_root": b"<message><Content>x</Content></message>",
    "undefined_entity": b"<xml><Content>&nope;</Content></xml>",
    "too_large": b"<xml><Content>" + b"a" * MAX_BODY_BYTES + b"</Content></xml>",
    "bad_utf8": b"<xml><Content>\xff\xfe</Content></xml>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bodies(name: str) -> None:
    """XXE, billion laughs, external DTD, malformed, empty, non-<xml> root, > 1 MB → XmlError."""
    with pytest.raises(XmlError):
        parse_xml(HOSTILE[name])


def test_exactly_the_size_limit_is_accepted() -> None:
    """A body of exactly MAX_BODY_BYTES is still parsed."""
    frame = b"<xml><Content></Content></xml>"
    raw = b"<xml><Content>" + b"a" * (MAX_BODY_BYTES - len(frame)) + b"</Content></xml>"
    assert len(raw) == MAX_BODY_BYTES
    assert len(parse_xml(raw)["Content"]) == MAX_BODY_BYTES - len(frame)


def test_empty_and_nested_fields() -> None:
    """An empty field maps to ''; a field with children maps to its own (blank) text."""
    fields = parse_xml(b"<xml><A/><B></B><C><D>x</D></C></xml>")
    assert fields["A"] == "" and fields["B"] == "" and fields["C"] == ""


@pytest.mark.parametrize(
    "text",
    ["]]>", "a]]>b", "]]>]]>", "]]]]>>", "<![CDATA[x]]>", "前]]>后 & <b>", "]", "]]", "x]]"],
)
def test_cdata_round_trip(text: str) -> None:
    """Content containing `]]>` (or CDATA markup) comes back intact through parse_xml."""
    assert parse_xml(f"<xml><Content>{cdata(text)}</Content></xml>".encode())["Content"] == text


def test_cdata_drops_characters_xml_cannot_carry() -> None:
    """Control characters that XML forbids are dropped, so the document still parses."""
    section = cdata("a\x00b\x07c\td")
    assert parse_xml(f"<xml><C>{section}</C></xml>".encode())["C"] == "abc\td"


def test_text_reply_parses_back() -> None:
    """The passive text reply parses into a text message with the same fields."""
    content = "您好！\n请说明]]>情况。"
    reply = text_reply(
        to_user="openid_1", from_user="gh_1", content=content, create_time=1700000000
    )
    message = parse_message(parse_xml(reply.encode()))
    assert (message.to_user, message.from_user, message.create_time) == (
        "openid_1",
        "gh_1",
        1700000000,
    )
    assert message.msg_type == "text" and message.content == content


def test_overlong_addresses_are_refused() -> None:
    """A FromUserName or ToUserName over 64 characters is not a WeChat address: XmlError."""
    fields = {"ToUserName": "gh_1", "FromUserName": "字" * 65, "CreateTime": "1", "MsgType": "text"}
    with pytest.raises(XmlError, match="FromUserName"):
        parse_message(fields)
    assert parse_message({**fields, "FromUserName": "o" * 64}).from_user == "o" * 64
