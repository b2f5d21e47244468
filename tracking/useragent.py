"""A coarse user-agent class for clicks, and the link-preview bots we answer but never count."""

from __future__ import annotations

import re
from functools import lru_cache

# Link unfurlers of chat apps and social networks, and generic crawlers.
_BOT = re.compile(
    r"facebookexternalhit|facebot|meta-externalagent|twitterbot|slackbot|slack-imgproxy|"
    r"telegrambot|whatsapp|linkedinbot|discordbot|skypeuripreview|applebot|pinterest|"
    r"redditbot|embedly|vkshare|quora link preview|iframely|googlebot|bingbot|baiduspider|"
    r"bytespider|yandex|duckduckbot|petalbot|sogou|mattermost|viber|line/|kakaotalk|"
    r"bot\b|crawler|spider|preview|curl/|wget/|python-requests|httpclient|okhttp",
    re.IGNORECASE,
)
_HEADLESS = re.compile(r"headlesschrome|phantomjs|puppeteer|playwright", re.IGNORECASE)
_MOBILE = re.compile(r"mobile|android|iphone|ipad|micromessenger", re.IGNORECASE)


@lru_cache(maxsize=4096)  # a handful of browser builds make most traffic
def classify(user_agent: str) -> str:
    """`bot`, `headless`, `mobile` or `browser`."""
    if not user_agent or _BOT.search(user_agent):
        return "bot"
    if _HEADLESS.search(user_agent):
        return "headless"
    if _MOBILE.search(user_agent):
        return "mobile"
    return "browser"
