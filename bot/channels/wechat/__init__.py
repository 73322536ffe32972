"""WeChat: the Official Account (`/wechat`) and WeCom (`/wecom`) share one callback channel.

`callback` (the routes and `CallbackChannel`), `responder` (answers in time, or pushed),
`replay` (time window and nonce memory), `crypto` (signatures, AES), `xml` (safe parsing and
the passive reply), `api` (the outbound API clients) and `menu` (the custom menu). Both
accounts differ only in settings: WeCom always encrypts and checks its CorpID.
"""

from bot.paging import ChannelProfile

# A passive reply carries one text of at most 2048 UTF-8 bytes; the rest waits behind 更多.
# No buttons: the text numbers the choices. WeCom's passive reply has the same limit.
PROFILE = ChannelProfile(reply_bytes=2048, buttons=False)
