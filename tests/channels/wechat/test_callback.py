"""The /wechat callback end to end: a WeChat peer that signs and encrypts, the real app and
engine, and a fake WeChat API on loopback for the pushes."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from bot import texts
from bot.channels.wechat.crypto import sha1_signature
from bot.nlp import NLP
from storage.db import Database
from storage.models import HelpRequest
from tests.channels.conftest import (
    TOKEN,
    WeChatSetup,
    cadre_says,
    escalated,
    inbound_count,
    responders,
    wechat_served,
)
from tests.conftest import long_text
from tests.factories import bind_cadre
from tests.fakes.nlp import RecordingNLP
from tests.fakes.wechat_server import FakeWeChatServer


async def test_url_verification(wx: WeChatSetup) -> None:
    """GET echoes echostr for a right signature; a wrong or missing one is 403."""
    ts, nonce = "1410685589", "test"
    good = {
        "signature": sha1_signature(TOKEN, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": "hello123",
    }
    ok = await wx.http.get("/wechat", params=good)
    assert ok.status_code == 200 and ok.text == "hello123"
    wrong = await wx.http.get("/wechat", params={**good, "signature": "f" * 40})
    missing = await wx.http.get("/wechat", params={"timestamp": ts, "nonce": nonce, "echostr": "x"})
    assert wrong.status_code == 403 and missing.status_code == 403
    assert "<Error>" in wrong.text


async def test_help_request_in_safe_mode(wx: WeChatSetup, database: Database) -> None:
    """A whole help request through encrypted WeChat messages is filed."""
    woman = wx.peer()
    script = [
        ("我要求助", "请说说您遇到的困难"),
        ("我是单亲妈妈，想找份能照顾孩子的工作", "区"),
        ("朝阳", "街道"),
        ("双井", "联系"),
        ("1", "请核对"),
        ("确认", "已提交"),
    ]
    for said, expected in script:
        delivery = await woman.say(said)
        assert delivery.status == 200 and delivery.content is not None, delivery.body
        assert expected in delivery.content, (said, delivery.content)
    with database.read() as session:
        [request] = session.exec(select(HelpRequest)).all()
    assert request.street == "双井街道"


async def test_plaintext_mode_and_voice(wx_plain: WeChatSetup) -> None:
    """Plaintext mode works; a voice with Recognition is its text, without it asks for text."""
    woman = wx_plain.peer("oPlain")
    first = await woman.say("你好")
    assert first.content is not None and "1. 我要求助" in first.content
    voice = woman.message_xml(
        "<MediaId>m1</MediaId><Format>amr</Format><Recognition><![CDATA[我要求助]]></Recognition>",
        msg_type="voice",
        msg_id="v1",
    )
    assert "困难" in ((await woman.post_xml(voice)).content or "")
    silent = woman.message_xml(
        "<MediaId>m2</MediaId><Format>amr</Format>", msg_type="voice", msg_id="v2"
    )
    assert "文字" in ((await woman.post_xml(silent)).content or "")
    image = woman.message_xml(
        "<PicUrl>http://x/1.jpg</PicUrl><MediaId>m3</MediaId>", msg_type="image", msg_id="i1"
    )
    assert "文字" in ((await woman.post_xml(image)).content or "")


async def test_a_long_text_is_cut_and_she_is_told(wx_plain: WeChatSetup) -> None:
    """WeChat's 1 MB body is no text limit: a text over 2,000 characters is read up to them,
    and the reply starts by saying so."""
    text = long_text(2100)
    wx_plain.engine.nlp = recording = RecordingNLP(wx_plain.engine.nlp)
    delivery = await wx_plain.peer("oLongText").say(text)
    assert delivery.content is not None
    assert delivery.content.startswith(texts.t("text.cut", length=2100, read=2000, rest=100))
    assert recording.texts[0] == text[:2000]


async def test_menu_click_and_follow_events(wx: WeChatSetup, database: Database) -> None:
    """subscribe greets; a CLICK key is its menu entry; unsubscribe answers success."""
    woman = wx.peer("oEvents")
    followed = await woman.event("subscribe")
    assert followed.content is not None and "隐私" in followed.content
    clicked = await woman.event("CLICK", "HELP_REQUEST", created=int(time.time()) + 1)
    assert "请说说您遇到的困难" in (clicked.content or "")
    left = await woman.event("unsubscribe", created=int(time.time()) + 2)
    assert left.status == 200 and left.body == "success"


async def test_crisis_gets_hotlines_first(wx: WeChatSetup) -> None:
    """A message in danger is answered with 110 and 12338 at the top."""
    delivery = await wx.peer("oCrisis").say("他拿着刀堵在门口说要砍死我")
    assert delivery.content is not None
    assert delivery.content.index("110") < 40 and "12338" in delivery.content


async def test_visit_report_by_a_cadre(wx: WeChatSetup, database: Database) -> None:
    """A cadre binds with an invite code in WeChat and files a visit."""
    from storage import repo

    with database.transaction() as session:
        unit = repo.unit_by_path(session, path="朝阳区/双井街道")
        assert unit is not None
        code = repo.create_invite(session, unit=unit, name="刘干部", now=wx.engine.clock()).code
    cadre = wx.peer("oCadre")
    for said, expected in [
        (f"绑定 {code}", "请核对"),
        ("确认", "绑定成功"),
        ("昨天在九龙社区实地考察了妇女之家，几位宝妈想找兼职", "是新的社区"),
        ("是", "走访了谁"),
        ("宝妈 5人", "求助单"),
        ("否", "请核对"),
        ("确认", "已记入走访日记"),
    ]:
        content = (await cadre.say(said)).content or ""
        assert expected in content, (said, content)


async def test_two_menu_clicks_in_one_second_are_both_answered(wx: WeChatSetup) -> None:
    """Two different menu clicks with the same CreateTime are two events, each answered for
    its own key (the dedup key holds the EventKey); the same click again is a retry."""
    woman = wx.peer("oClicks")
    second = int(wx.clock().timestamp())
    menu = await woman.event("CLICK", "MENU", created=second)
    help_ = await woman.event("CLICK", "HELP_REQUEST", created=second)
    again = await woman.event("CLICK", "HELP_REQUEST", created=second)
    assert menu.content is not None and "1. 我要求助" in menu.content
    assert help_.content is not None and "请说说您遇到的困难" in help_.content
    assert again.content == help_.content


async def test_one_msgid_from_two_senders_is_two_messages(
    wx: WeChatSetup, database: Database
) -> None:
    """The same MsgId from another sender is her own message (the dedup key holds the sender):
    she gets her own answer, never the first sender's."""
    before = inbound_count(database)
    first = await wx.peer("oFirst").say("我要求助", msg_id="4242")
    other = await wx.peer("oSecond").say("你好", msg_id="4242")
    assert first.content is not None and "困难" in first.content
    assert other.content is not None and "1. 我要求助" in other.content
    assert inbound_count(database) == before + 2


async def test_long_replies_are_split_with_more(wx: WeChatSetup) -> None:
    """A reply over 2048 bytes is cut; 更多 brings the rest."""
    woman = wx.peer("oLong")
    await woman.say("我要求助")
    long_need = "我家里的情况比较复杂，" * 60 + "想找份工作"
    summary_parts = []
    for said in (long_need, "对", "朝阳", "跳过", "1"):
        summary_parts.append((await woman.say(said)).content or "")
    assert "更多" in summary_parts[-1]
    rest = await woman.say("更多")
    assert rest.content is not None and "确认" in rest.content


async def test_reply_escapes_cdata_end(wx: WeChatSetup) -> None:
    """Text containing ]]> comes back intact inside the reply's CDATA."""
    woman = wx.peer("oCdata")
    await woman.say("我要求助")
    delivery = await woman.say("想找工作]]><x>注入</x>，会做饭")
    assert delivery.status == 200
    await woman.say("对")
    await woman.say("朝阳")
    await woman.say("跳过")
    summary = await woman.say("1")
    assert summary.content is not None and "想找工作]]><x>注入</x>，会做饭" in summary.content


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"<xml><ToUserName>", 400),
        (b"not xml at all", 400),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<xml><Content>&e;</Content></xml>",
            400,
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">'
            b"]><xml><Content>&b;</Content></xml>",
            400,
        ),
        (b"<xml>" + b"a" * (1024 * 1024 + 10) + b"</xml>", 413),
    ],
    ids=["empty", "truncated", "not-xml", "xxe", "billion-laughs", "too-large"],
)
async def test_hostile_bodies_never_reach_the_engine(
    wx: WeChatSetup, database: Database, body: bytes, status: int
) -> None:
    """Malformed, entity-laden and oversized bodies get 4xx and touch nothing."""
    ts, nonce = str(int(wx.engine.clock().timestamp())), "1320562132"
    params = {"signature": sha1_signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    response = await wx.http.post("/wechat", params=params, content=body)
    assert response.status_code == status
    assert inbound_count(database) == 0


async def test_bad_signatures_are_403(wx: WeChatSetup, database: Database) -> None:
    """A wrong signature or msg_signature is refused before decryption."""
    woman = wx.peer("oBad")
    assert (await woman.say("你好")).status == 200
    count = inbound_count(database)
    bad_sig = await woman.post_xml(
        woman.message_xml("<Content>x</Content>", msg_type="text", msg_id="1"), tamper="signature"
    )
    bad_msg = await woman.post_xml(
        woman.message_xml("<Content>x</Content>", msg_type="text", msg_id="2"),
        tamper="msg_signature",
    )
    assert bad_sig.status == 403 and bad_msg.status == 403
    assert inbound_count(database) == count


async def test_status_changes_reach_her_in_wechat(wx: WeChatSetup, database: Database) -> None:
    """A cadre (on the JSON API) takes and resolves her request; she is told through WeChat."""

    woman = wx.peer("oProgress")
    for said in ("我要求助", "想找一份离家近的保洁工作", "朝阳区双井街道", "1"):
        await woman.say(said)
    filed = (await woman.say("确认")).content or ""
    code = filed.split("编号 ")[1][:6]
    with database.transaction() as session:
        bind_cadre(session, name="王干部", external_id="c-api", now=wx.engine.clock())
    for text in (f"受理 {code}", f"办结 {code} 已推荐到社区保洁岗位"):
        await cadre_says(wx.http, wx.channels, text)
    sent = [
        r.body["text"]["content"]
        for r in wx.api.requests_to("/cgi-bin/message/custom/send")
        if isinstance(r.body, dict) and r.body.get("touser") == "oProgress"
    ]
    assert any("受理" in s for s in sent) and any("保洁岗位" in s for s in sent)


async def test_a_hand_off_reaches_her_in_and_outside_the_48_hours(
    database: Database, nlp: NLP, fake_api: FakeWeChatServer
) -> None:
    """转人工 over WeChat: the cadre's 回复 reaches her as a customer-service message; once
    WeChat answers 45015 (outside the 48-hour window) the next reply goes as the template
    message; her answer reaches the cadre; 结束会话 tells her."""
    async with wechat_served(database, nlp, fake_api, template="TPL-HANDOFF") as wx:
        with database.transaction() as session:
            bind_cadre(session, name="王干部", external_id="c-api", now=wx.engine.clock())
        woman = wx.peer("oHandoff")
        await woman.say("我住朝阳区双井街道，想找份保洁工作")
        started = (await woman.say("转人工")).content or ""
        assert "双井街道" in started
        code = started.split("会话编号 ")[1][:6]

        async def cadre(text: str) -> str:
            return await cadre_says(wx.http, wx.channels, text)

        await cadre(f"回复 {code} 您好，我是双井街道妇联的王干部")
        custom = [
            r.body["text"]["content"]
            for r in wx.api.requests_to("/cgi-bin/message/custom/send")
            if isinstance(r.body, dict) and r.body.get("touser") == "oHandoff"
        ]
        assert any("王干部" in c for c in custom)
        assert "已转给工作人员" in ((await woman.say("想找上午的活")).content or "")
        wx.api.fail_next("/cgi-bin/message/custom/send", errcode=45015)
        await cadre(f"回复 {code} 好的，周三上午有一家在招")
        [template] = [
            r.body
            for r in wx.api.requests_to("/cgi-bin/message/template/send")
            if isinstance(r.body, dict) and r.body.get("touser") == "oHandoff"
        ]
        assert template["template_id"] == "TPL-HANDOFF" and "周三上午" in str(template["data"])


async def test_crisis_is_escalated_and_a_retry_opens_no_second_case(
    wx: WeChatSetup, database: Database
) -> None:
    """A crisis over WeChat opens the urgent case within that message and pushes it to the
    unit's cadres and the duty staff; WeChat retrying the same message opens no second case."""
    users = responders(database, wx.clock)
    peer = wx.peer("oDanger")
    first = await peer.say("我在朝阳区双井街道，他拿着刀说要砍死我")
    assert first.content is not None and first.content.index("110") < 40
    assert "值班人员" in first.content and "您好" not in first.content
    code = escalated(database, users)
    await peer.resend(first)
    assert escalated(database, users) == code


async def test_a_safety_check_over_wechat(wx: WeChatSetup, database: Database) -> None:
    """Danger signals over WeChat: 您现在安全吗 alone (its choices in words, no buttons);
    不安全 opens the urgent case, pushed to the unit's cadres and the duty staff."""
    users = responders(database, wx.clock)
    peer = wx.peer("oWorried")
    asked = await peer.say("我在朝阳区双井街道，他最近老喝酒，喝完就摔东西，我不知道该不该走")
    assert asked.content == "您现在安全吗？如果有危险，请立即拨打110。"
    answer = await peer.say("不安全")
    assert answer.content is not None and answer.content.index("110") < 40
    assert "值班人员" in answer.content
    escalated(database, users)
