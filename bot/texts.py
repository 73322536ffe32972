"""Every user-facing Chinese text, in one place, by key.

Placeholders use `str.format` names; a missing name renders empty rather than failing, so a
prompt never crashes a conversation. Keys ending in `.help` explain the question of the same key.
"""

from __future__ import annotations

from collections import defaultdict

TEXTS: dict[str, str] = {
    # ------------------------------------------------------------------ general
    "greeting": "您好！我是妇情通，北京市妇联的服务助手。有困难可以随时找我，我会转给负责的妇联干部。",
    "privacy": "隐私说明：您告诉我们的信息只用于帮您解决问题；在您同意之前，我们不会保存您的个人信息。"
    "任何时候回复“删除我的信息”即可删除。",
    "menu": "请问需要什么帮助？回复数字或直接说出您的情况：",
    "menu.cadre": "您好，{name}（{unit}）。回复数字，或直接发来走访情况：",
    "apology": "抱歉，系统出了点问题，请稍后再试。如有紧急情况请拨打 110。",
    "empty": "没收到文字内容，请用文字告诉我您的情况。",
    "non_text": "暂时只能看懂文字消息，请用文字告诉我您的情况。",
    "voice_no_text": "这段语音我没能识别，请改用文字发送。",
    "unknown": "没太明白您的意思。",
    "help.idle": "可以直接说出您遇到的困难，例如“想找份兼职”“孩子生病没钱治”。"
    "随时可用：取消、返回、帮助、菜单、转人工、查询进度、删除我的信息。",
    "value.none": "未填",
    "menu.services": "服务",  # WeChat menu group: at most 4 characters
    "more.hint": "（内容较长，回复“更多”查看）",
    "more.none": "没有更多内容了。",
    "value.unrecognised": "（未识别）",
    "unit.label": "{unit}妇联",
    "unit.city": "北京市妇联",
    "place.unknown": "地点未知",
    "who.resident": "居民#{id}",
    "who.staff": "工作人员",
    "urgent.mark": "【紧急】",
    "push.mark": "【通知】",
    "delete.placeholder": "（本人已删除）",
    "delete.event": "本人删除了个人信息",
    # ------------------------------------------------------------------ crisis
    "crisis": "您现在有危险吗？请马上拨打 110 报警；全国妇联妇女维权热线 12338 全天可以求助。"
    "如果可以，先到安全的地方。我们已把您的求助标为紧急。",
    "crisis.self": "您的生命很重要。请马上拨打 110，或心理援助热线 12356；"
    "也可以拨打妇女维权热线 12338。请告诉身边信任的人陪着您。",
    # ------------------------------------------------------------------ flows (common)
    "flow.summary": "请核对{title}：",
    "flow.summary_actions": "回复“确认”提交，“修改 字段”修改（如“修改 地点”），“取消”放弃。",
    "flow.summary_unclear": "请回复“确认”提交，或“修改 字段”，或“取消”。",
    "flow.summary_help": "核对无误就回复“确认”；哪项不对就回复“修改”加那一项的名字，例如“修改 电话”。",
    "flow.edit_which": "要修改哪一项？可以改：{fields}。例如“修改 {fields}”里的一项。",
    "flow.first_step": "已经是第一个问题了。",
    "flow.cancelled": "好的，已取消“{title}”，没有保存任何内容。需要时回复“菜单”。",
    "flow.optional_hint": "（不清楚可以回复“跳过”）",
    "flow.offer_skip": "这一项可以先跳过：回复“跳过”。也可以回复“转人工”，请工作人员帮您。",
    "flow.offer_human": "如果不方便回答，可以回复“转人工”，请工作人员帮您；回复“取消”可以放弃。",
    "flow.generic_help": "按问题回答就可以，用自己的话说也行。随时可以回复“返回”“取消”或“转人工”。",
    "flow.resume": "欢迎回来！您上次的“{title}”还没完成。回复“继续”接着办，回复“取消”放弃。",
    "flow.resume_unclear": "请回复“继续”接着办上次的“{title}”，或回复“取消”放弃。",
    "flow.expired": "您上次没办完的“{title}”已超过 7 天，已自动取消。",
    "flow.not_in_flow": "现在没有进行中的事项。",
    # ------------------------------------------------------------------ help request
    "help.title": "我要求助",
    "help.need": "请说说您遇到的困难，越具体越好。",
    "help.need.help": "比如：“单亲妈妈，想找份能照顾孩子的工作”，或“丈夫经常打我，想离婚”。",
    "help.need_short": "内容太短了，我还不明白您遇到了什么困难。",
    "help.categories": "我理解您的需求属于：{suggested}。对吗？回复“对”，或回复类别的数字（可多选，如“1 3”）：",
    "help.categories.help": "岗位=找工作、创业；健康=看病、体检；知识=培训、政策咨询；"
    "帮扶=生活困难、救助；维权=家暴、离婚、纠纷；其他=活动、建议等。",
    "help.categories_none": "我还判断不出类别，请回复类别的数字（可多选，如“1 3”）：",
    "help.categories_unclear": "没看懂您选的类别。",
    "help.district": "您在北京哪个区？回复数字或区名：",
    "help.district.help": "说区名就行，比如“朝阳”“海淀区”；也可以直接说街道，比如“双井街道”。",
    "help.district_unknown": "没找到这个区，请回复 1-16 的数字或区名。",
    "help.street": "您在{district}的哪个街道/乡镇或社区？",
    "help.street.help": "比如“双井街道”“九龙社区”；不知道可以回复“跳过”。",
    "help.street_unknown": "在{district}没找到这个街道或社区。",
    "help.contact": "我们怎么联系您？",
    "help.contact.help": "选 1 我们就在这个对话里回复您；选 2 请留一个手机号，工作人员会打电话。",
    "help.contact_unclear": "请回复 1 或 2，或者直接发手机号。",
    "help.phone": "请留一个手机号码：",
    "help.phone.help": "11 位手机号，如 13800138000；也可以留座机，如 010-12345678。",
    "help.phone_invalid": "这个号码好像不对。",
    "help.consent": "为了帮您解决问题，需要把以上信息提供给负责的妇联干部。您同意吗？",
    "help.consent.help": "同意后我们才会保存并转交您的信息；不同意则不会保存。",
    "help.consent_unclear": "请回复 1（同意）或 2（不同意）。",
    "help.no_consent": "好的，您的信息没有保存。如需帮助，可以随时拨打妇女维权热线 12338。",
    "help.filed": "已提交！编号 {code}，由{unit}负责，会尽快联系您。回复“查询进度”可随时查看。",
    "help.filed_urgent": "已按紧急求助提交，编号 {code}，已通知{unit}。",
    "help.notify": "【新求助 {code}】{categories}｜{place}\n{need}\n联系方式：{contact}\n"
    "回复“受理 {code}”接手。",
    "help.notify_urgent": "【紧急求助 {code}】{categories}｜{place}\n{need}\n联系方式：{contact}\n"
    "请立即联系！回复“受理 {code}”接手。",
    "contact.chat": "在对话中回复",
    "contact.phone": "电话 {phone}",
    # ------------------------------------------------------------------ visit report
    "visit.title": "走访记录",
    "visit.cadre_only": "走访记录只对绑定的妇联干部开放。干部请先回复“绑定 邀请码”。",
    "visit.date": "哪天走访的？（如“昨天”“3月5号”）",
    "visit.date.help": "可以写“今天”“前天”“上周三”“3月5日”或“2026-03-05”。",
    "visit.date_unknown": "没看出是哪一天。",
    "visit.date_future": "{date} 还没到，走访日期不能是将来。",
    "visit.place": "在哪里走访的？（街道/乡镇、社区/村）",
    "visit.place.help": "比如“双井街道九龙社区”“斋堂镇爨底下村”；需在您的辖区（{jurisdiction}）内。",
    "visit.place_unknown": "没找到这个地点。",
    "visit.place_outside": "{place}不在您的辖区（{jurisdiction}）内，请填写辖区内的地点。",
    "visit.form": "走访形式是？",
    "visit.form.help": "一对一访谈、实地考察、座谈交流、结对帮扶；都不是就选“其他走访”。",
    "visit.form_unclear": "没看懂是哪种形式。",
    "visit.whom": "走访了谁、几个人？请用化名，如“王某，1人”“宝妈 5人”。",
    "visit.whom.help": "为保护隐私请不要写全名，用“王某”“李大姐”这样的称呼。",
    "visit.whom_short": "请写一下走访对象，如“王某，1人”。",
    "visit.focus": "涉及哪些重点群体？（可多选，如“1 3”；都不涉及回复“无”）",
    "visit.focus.help": "单亲贫困母亲、特殊困难妇女、创业就业、参选参政、帮扶救助；都不涉及回复“无”。",
    "visit.focus_unclear": "没看懂涉及哪些群体。",
    "visit.notes": "请简单记下了解到的情况和她的需求：",
    "visit.notes.help": "写清楚她遇到的困难和想要的帮助，系统会自动归类。",
    "visit.notes_short": "情况写得太简单了，请多写几句。",
    "visit.open_help": "需要为她建一个求助单，交给相关单位跟进吗？",
    "visit.open_help.help": "选“是”，会用这次记录的情况建求助单；请事先征得她本人同意。",
    "visit.open_help_unclear": "请回复 1（是）或 2（否）。",
    "visit.filed": "已记入走访日记：{date} {place}，{form}。",
    "visit.filed_help": "已为她建立求助单 {code}，由{unit}跟进。",
    "visit.other_form": "其他走访",
    # ------------------------------------------------------------------ onboarding
    "bind.title": "绑定干部身份",
    "bind.code": "请输入邀请码（8 位字母和数字）：",
    "bind.code.help": "邀请码由市妇联或区妇联在管理后台生成，请向管理员索取。",
    "bind.code_invalid": "邀请码不对或已失效。",
    "bind.code_used": "这个邀请码已经用过了。",
    "bind.summary": "请核对：",
    "bind.done": "绑定成功！您现在是{unit}的妇联干部{name}。发来走访情况即可记录，回复“查询进度”查看本单位的求助。",
    "bind.already": "您已经是{unit}的妇联干部了。",
    # ------------------------------------------------------------------ progress
    "progress.none": "您还没有求助记录。需要帮助请直接说出您的困难。",
    "progress.mine": "您的求助：",
    "progress.unit": "{unit}待办的求助：",
    "progress.unit_none": "{unit}目前没有待办的求助。",
    "progress.line": "{code}｜{status}｜{categories}｜{date}",
    "progress.cadre_hint": "回复“受理 编号”接手，“办结 编号 说明”办结。",
    "progress.resident_hint": "回复“撤销 编号”可撤销还没办结的求助。",
    "progress.not_found": "没找到编号 {code} 的求助。",
    "progress.not_yours": "编号 {code} 不属于您的单位，不能处理。",
    "progress.cadre_only": "这个操作只有妇联干部可以用。",
    "progress.need_code": "请带上编号，例如“受理 A3K7Q2”。",
    "progress.need_note": "请写上办结说明，例如“办结 A3K7Q2 已介绍到社区就业岗位”。",
    "progress.closed": "编号 {code} 已经{status}了。",
    "progress.taken": "已受理 {code}，已告诉求助人。",
    "progress.resolved": "已办结 {code}，已告诉求助人。",
    "progress.cancelled": "已撤销求助 {code}。",
    "progress.tell_taken": "您的求助 {code} 已由{unit}的{name}受理，会尽快联系您。",
    "progress.tell_resolved": "您的求助 {code} 已办结：{note}。如还有困难，随时告诉我。",
    "status.new": "待受理",
    "status.assigned": "已受理",
    "status.in_progress": "办理中",
    "status.resolved": "已办结",
    "status.cancelled": "已撤销",
    # ------------------------------------------------------------------ human hand-over
    "human.started": "已为您转人工，工作人员会尽快回复。期间您发的消息都会转给他们；回复“菜单”回到自助服务。",
    "human.forwarded": "已转给工作人员，请稍候。",
    "human.notify": "【转人工】{who}（{channel}）需要人工帮助。最近的对话：\n{transcript}\n{slots}",
    "human.notify_message": "【转人工】{who}：{text}",
    # ------------------------------------------------------------------ delete my data
    "delete.confirm": "确定要删除您的个人信息吗？删除后，您的求助内容和联系方式都会清除（匿名统计保留）。"
    "回复“确认删除”执行，回复其他内容取消。",
    "delete.done": "您的个人信息已删除。以后需要帮助，随时可以再找我。",
    "delete.kept": "好的，没有删除。",
    "delete.cadre": "干部账号请联系管理员解除绑定。",
    # ------------------------------------------------------------------ reminders (scheduler/rules.py)
    # ------------------------------------------------------------------ quarterly summary (bot/reporting)
    # ------------------------------------------------------------------ quarterly chat, ratings, contact points
}

CATEGORY_LABELS = {
    "jobs": "岗位",
    "health": "健康",
    "knowledge": "知识",
    "relief": "帮扶",
    "rights": "维权",
    "other": "其他",
}


def t(key: str, **fmt: object) -> str:
    """Return the text for `key`, formatted; unknown placeholders render empty."""
    return TEXTS[key].format_map(defaultdict(str, {k: str(v) for k, v in fmt.items()}))


def has(key: str) -> bool:
    """True when `key` has a text."""
    return key in TEXTS


def category_labels(codes: list[str] | tuple[str, ...]) -> str:
    """Chinese labels of category codes, joined: ['jobs', 'knowledge'] → '岗位、知识'."""
    return "、".join(CATEGORY_LABELS.get(c, c) for c in codes)
