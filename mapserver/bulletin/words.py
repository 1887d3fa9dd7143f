"""The bulletin's words in Chinese (the default) and English; enum labels (categories, levels) come from the big
screen's vocabulary (:mod:`mapserver.i18n`) so both say the same thing."""

from __future__ import annotations

from mapserver.i18n import HTML_LANG, LANGS, LEVEL_NAMES, words

__all__ = ["HTML_LANG", "LANGS", "category_label", "enum_label", "level_name", "text", "trend_word"]

_ZH = {
    "title": "研判专报（周报）",
    "subtitle": "{year}年第{number}周（{monday} 至 {sunday}）",
    "generated": "生成于 {at}（{zone}）",
    "in_progress": "本周尚未结束，数据截至 {at}。",
    "week_short": "第{number}周",
    "summary": "总体态势", "by_category": "分类事件", "by_street": "各街道事件",
    "map": "态势图", "hot_grids": "高发网格 TOP{n}（{level}）", "hotspots": "新增与加剧热点",
    "blind_spots": "视频监控盲区", "overdue": "超期未办结事项",
    "reported": "上报事件", "closure_rate": "办结率", "on_time_rate": "按期办结率",
    "mean_before": "前四周均值", "change": "较均值增减", "change_share": "增减幅度",
    "total": "合计", "unassigned": "未归属街道网格",
    "category": "类别", "street": "街道", "grid": "网格", "code": "编码", "this_week": "本周",
    "cell": "单元（H3）", "kind": "类型", "z": "Gi* z 值", "weekly_counts": "各周事件数",
    "new": "新增热点", "intensifying": "加剧热点",
    "hotspot_note": "H3 第{res}级单元，Getis-Ord Gi* 逐周计算（置信度 {confidence}%，FDR 校正），"
                    "结合 Mann-Kendall 趋势检验：新增＝仅本周为热点；加剧＝五周中至少九成为热点且 z 值显著上升。",
    "hotspot_counts": "热点分类单元数：{counts}",
    "trend_categories": {"new": "新增", "consecutive": "连续", "intensifying": "加剧", "persistent": "持续",
                         "diminishing": "减弱", "sporadic": "零星"},
    "coverage": "本周{basis}共 {cells} 个，在线视频覆盖 {covered} 个（覆盖率 {share}），在线视频 {online} 路。",
    "basis_hot": "显著热点单元", "basis_top": "事件最多的单元",
    "blind_note": "H3 第{res}级单元；以周末时点的视频在线状态计，单元中心不在任何在线视频视域内即为盲区。",
    "rank": "序号", "count": "事件数", "position": "中心经纬度",
    "overdue_total": "截至 {at}，超过办结时限仍未办结的事项共 {n} 件。",
    "overdue_listed": "列出最近上报的 {shown} 件：",
    "id": "事件编号", "severity": "等级", "reported_at": "上报时间", "due_at": "办结时限", "late": "已超期",
    "description": "描述", "hours": "{n} 小时", "days": "{n} 天",
    "none": "无",
    "legend_street": "街道网格", "legend_new": "新增热点", "legend_intensifying": "加剧热点",
    "legend_blind": "视频盲区（序号同下表）",
    "map_title": "街道网格、热点与视频盲区",
    "chart_categories": "近五周分类事件数", "chart_streets": "本周各街道事件数（竖线为前四周均值）",
    "method": "统计口径：按上报时间（{zone}）归周，周一 0 时至下周一 0 时；"
              "办结率、按期办结率为当周上报事件截至生成时的状态；超期以办结时间判断，截至周末时点。",
}

_EN = {
    "title": "Weekly analysis bulletin",
    "subtitle": "Week {number} of {year} ({monday} to {sunday})",
    "generated": "Generated {at} ({zone})",
    "in_progress": "The week is not over; figures run to {at}.",
    "week_short": "W{number}",
    "summary": "Overview", "by_category": "Incidents by category", "by_street": "Incidents by street",
    "map": "Map", "hot_grids": "Top {n} grids ({level})", "hotspots": "New and intensifying hotspots",
    "blind_spots": "Camera blind spots", "overdue": "Overdue items",
    "reported": "Reported", "closure_rate": "Closure rate", "on_time_rate": "On-time rate",
    "mean_before": "Mean of 4 weeks before", "change": "Change vs mean", "change_share": "Change %",
    "total": "Total", "unassigned": "Outside every street grid",
    "category": "Category", "street": "Street", "grid": "Grid", "code": "Code", "this_week": "This week",
    "cell": "Cell (H3)", "kind": "Kind", "z": "Gi* z", "weekly_counts": "Incidents per week",
    "new": "New hotspot", "intensifying": "Intensifying hotspot",
    "hotspot_note": "H3 cells at resolution {res}; Getis-Ord Gi* per week ({confidence}% confidence, FDR-corrected) "
                    "with a Mann-Kendall trend test: new = hot this week only; intensifying = hot in at least 90% of "
                    "the five weeks with a significantly rising z.",
    "hotspot_counts": "Cells per trend class: {counts}",
    "trend_categories": {"new": "new", "consecutive": "consecutive", "intensifying": "intensifying",
                         "persistent": "persistent", "diminishing": "diminishing", "sporadic": "sporadic"},
    "coverage": "This week {cells} {basis}; {covered} seen by online cameras (coverage {share}); "
                "{online} cameras online.",
    "basis_hot": "significantly hot cells", "basis_top": "cells with the most incidents",
    "blind_note": "H3 cells at resolution {res}; camera status at the end of the week; a cell whose centre no online "
                  "camera sees is a blind spot.",
    "rank": "No.", "count": "Incidents", "position": "Centre (lon, lat)",
    "overdue_total": "At {at}, {n} items were open past their time limit.",
    "overdue_listed": "The {shown} most recently reported:",
    "id": "Incident", "severity": "Severity", "reported_at": "Reported", "due_at": "Due", "late": "Overdue by",
    "description": "Description", "hours": "{n} h", "days": "{n} d",
    "none": "none",
    "legend_street": "Street grids", "legend_new": "New hotspot", "legend_intensifying": "Intensifying hotspot",
    "legend_blind": "Blind spot (numbered as in the table)",
    "map_title": "Street grids, hotspots and camera blind spots",
    "chart_categories": "Incidents by category, last five weeks",
    "chart_streets": "Incidents by street this week (tick: mean of the four weeks before)",
    "method": "Weeks run from Monday 00:00 to the next Monday 00:00 ({zone}) by report time; closure and on-time "
              "rates are of the week's reports as they stand when generated; overdue is judged by the closing time, "
              "at the end of the week.",
}


def text(lang: str, key: str, **values: object) -> str:
    """One label in ``lang``, with ``{name}`` filled from ``values`` (values are the caller's to escape)."""
    template = (_ZH if lang == "zh" else _EN)[key]
    return template.format(**values) if values else template


def trend_word(lang: str, category: str) -> str:
    """A trend class's name."""
    return (_ZH if lang == "zh" else _EN)["trend_categories"].get(category, category)


def category_label(lang: str, code: str, configured: dict[str, str]) -> str:
    """A category's name: in Chinese the configured label first (the site's own words), in English the screen's;
    the code when neither knows it."""
    screen = words(lang)["enums"]["category"].get(code)
    if lang == "zh":
        return configured.get(code) or screen or code
    return screen or code


def enum_label(lang: str, kind: str, code: str) -> str:
    """The screen's name for a status, severity or other enum value, else the code."""
    return words(lang)["enums"].get(kind, {}).get(code, code)


def level_name(lang: str, level: int) -> str:
    """A grid level's name (街道, 社区(村), …)."""
    return LEVEL_NAMES[lang][level]
