"""The coach dashboard: web pages served by the bot itself (Telegram Mini App and desktop browser).

No new data: pages read and change what the chat reads and changes, through the same
repositories and the same role and ownership checks (`bot.coaching.access`). One module per job:
`initdata` (Mini App signature), `auth` (login links, sessions, CSRF), `viewer` (who is asking,
page results), one module per page, `charts` (SVG geometry), `server` (thin aiohttp handlers).
"""
