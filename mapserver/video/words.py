"""The video panel's labels (the wall's and the desk's), zh-CN and English. ``{name}`` marks a figure."""

from __future__ import annotations

from typing import Any

_VIDEO: dict[str, dict[str, str]] = {
    "zh": {
        "title": "实时视频", "play": "▶ 视频", "close": "关闭", "retry": "重试", "loading": "正在连接视频…",
        "playing": "直播中", "offline": "视频离线或无法连接，请稍后重试或联系视频平台。",
        "stalled": "视频中断：{s} 秒未收到画面。", "no_stream": "该点位未配置视频流地址。",
        "not_allowed": "视频主机 {host} 未在本系统允许的视频来源（video.stream_origins）中，浏览器不会加载。",
        "insecure": "本页经 HTTPS 打开，浏览器不会加载 HTTP 视频流 {host}。",
        "unsupported": "此浏览器无法播放 HLS 视频。",
        "forbidden": "无权查看视频。", "unknown": "找不到该摄像机。",
    },
    "en": {
        "title": "Live video", "play": "▶ Video", "close": "Close", "retry": "Retry", "loading": "Connecting…",
        "playing": "Live", "offline": "The stream is offline or unreachable; try again later or call the video "
                                     "platform.",
        "stalled": "Video interrupted: no picture for {s} s.", "no_stream": "No stream address is set for this camera.",
        "not_allowed": "The video host {host} is not among this server's allowed stream origins "
                       "(video.stream_origins); the browser will not load it.",
        "insecure": "This page was opened over HTTPS; the browser will not load the HTTP stream at {host}.",
        "unsupported": "This browser cannot play HLS video.", "forbidden": "You may not watch video.",
        "unknown": "No such camera.",
    },
}


def video_words(lang: str) -> dict[str, Any]:
    """The video panel's labels in ``lang`` ("zh" or "en")."""
    return dict(_VIDEO["zh" if lang == "zh" else "en"])
