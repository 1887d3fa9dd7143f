"""The big screen's words in Chinese (the default) and English; the page gets them as JSON and writes them as text."""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}

LEVEL_NAMES = {
    "zh": {1: "街道", 2: "社区(村)", 3: "小区(自然村)", 4: "楼栋(小组)"},
    "en": {1: "Street", 2: "Community / village", 3: "Compound", 4: "Building / group"},
}

_ZH = {
    "page_title": "网格化服务管理 · 一屏统揽",
    "brand": "综治中心 · 一屏统揽",
    "window_today": "今日", "window_7d": "近7日", "window_30d": "近30日",
    "measures": "态势指标",
    "m_reports": "上报事件", "m_reports_window": "{window}上报事件", "m_open": "未办结", "m_overdue": "超期",
    "m_closure_rate": "办结率",
    "m_on_time_rate": "按期办结率", "m_camera_online_rate": "视频在线率", "m_hottest_grids": "高发网格 TOP5",
    "m_grids": "网格数量", "pending": "待接入",
    "cameras_online": "在线 {online} / 共 {total}",
    "updated": "更新于", "offline": "连接中断，正在重试…", "revoked": "访问令牌已失效，请联系管理员重新授权",
    "search_placeholder": "地址，或坐标“经度,纬度”", "search": "定位",
    "crs_wgs84": "WGS-84", "crs_gcj02": "GCJ-02（高德/腾讯）", "crs_bd09": "BD-09（百度）", "crs_cgcs2000": "CGCS2000",
    "lookup_missing": "地址查询尚未启用（网格索引模块未安装），请输入坐标“经度,纬度”",
    "lookup_failed": "未找到该地址", "bad_coords": "坐标格式应为“经度,纬度”",
    "no_grid_here": "该点不在任何网格内",
    "close": "关闭",
    "grid": "网格", "chain": "所属层级", "staff": "网格力量", "no_staff": "暂无登记人员", "counts": "网格指标",
    "code": "编码", "households": "户数", "population": "人口", "children": "下级网格",
    "incidents_in_window": "期内事件", "open_in_window": "其中未办结", "cameras": "视频点位",
    "incident": "事件", "category": "类别", "severity": "等级", "status": "状态", "warning": "预警",
    "reported_at": "上报时间", "due_at": "办结时限", "unit": "承办单位", "description": "描述", "address": "地址",
    "timeline": "办理经过", "timeline_pending": "暂无办理记录",
    "camera": "视频点位", "last_seen": "最近在线", "place": "重点场所", "kind": "类型",
    "point": "定位点", "in_progress": "办理中", "truncated": "{layer}：显示 {shown} / 共 {total}",
    "aggregated": "{layer}：聚合显示，放大查看每个点位",
    "trend_hot": "近{periods}{unit}中 {hot} {unit}为热点", "trend_last": "最近一{unit}事件 {count}",
    "route_size": "全程 {km} 公里 · 约 {min} 分钟",
    "unauthorized_title": "需要授权", "unauthorized_body": "此大屏需要查看令牌。请用管理员发放的链接打开：/?token=…",
    "whole_area": "全区", "change_password": "修改密码", "admin_accounts": "账号管理", "logout": "退出",
}

_EN = {
    "page_title": "Grid governance · One-screen overview",
    "brand": "Command centre · One-screen overview",
    "window_today": "Today", "window_7d": "7 days", "window_30d": "30 days",
    "measures": "Measures",
    "m_reports": "Reported", "m_reports_window": "Reported · {window}", "m_open": "Open", "m_overdue": "Overdue",
    "m_closure_rate": "Closure rate",
    "m_on_time_rate": "On-time rate", "m_camera_online_rate": "Cameras online", "m_hottest_grids": "Top 5 grids",
    "m_grids": "Grids", "pending": "coming",
    "cameras_online": "{online} of {total} online",
    "updated": "Updated", "offline": "Connection lost, retrying…", "revoked": "The access token is no longer valid",
    "search_placeholder": "Address, or coordinates “lon,lat”", "search": "Go",
    "crs_wgs84": "WGS-84", "crs_gcj02": "GCJ-02 (Amap/Tencent)", "crs_bd09": "BD-09 (Baidu)",
    "crs_cgcs2000": "CGCS2000",
    "lookup_missing": "Address search is not available yet (grid index not installed); enter “lon,lat”",
    "lookup_failed": "Address not found", "bad_coords": "Coordinates are “lon,lat”",
    "no_grid_here": "This point lies in no grid",
    "close": "Close",
    "grid": "Grid", "chain": "Grid chain", "staff": "Grid staff", "no_staff": "No staff on record",
    "counts": "Measures",
    "code": "Code", "households": "Households", "population": "Population", "children": "Sub-grids",
    "incidents_in_window": "Incidents in window", "open_in_window": "of which open", "cameras": "Cameras",
    "incident": "Incident", "category": "Category", "severity": "Severity", "status": "Status", "warning": "Warning",
    "reported_at": "Reported", "due_at": "Due", "unit": "Unit", "description": "Description", "address": "Address",
    "timeline": "Timeline", "timeline_pending": "No steps recorded yet",
    "camera": "Camera", "last_seen": "Last seen", "place": "Key place", "kind": "Kind",
    "point": "Point", "in_progress": "in progress", "truncated": "{layer}: {shown} of {total} shown",
    "aggregated": "{layer}: aggregated here; zoom in to see each one",
    "trend_hot": "hot in {hot} of the last {periods} {unit}s", "trend_last": "incidents in the last {unit}: {count}",
    "route_size": "{km} km · about {min} min",
    "unauthorized_title": "Authorisation needed",
    "unauthorized_body": "This screen needs a viewer token. Open the link an administrator gave you: /?token=…",
    "whole_area": "whole district", "change_password": "Password", "admin_accounts": "Accounts", "logout": "Log out",
}

_ENUMS = {
    "zh": {
        "status": {"reported": "已上报", "dispatched": "已派单", "grabbed": "已抢单", "accepted": "已签收",
                   "joint": "联合处置", "handled": "已处置", "verified": "已核查", "closed": "已办结",
                   "returned": "已返单"},
        "severity": {"general": "一般", "important": "重要", "urgent": "重要紧急"},
        "warning": {"green": "正常", "yellow": "临期预警", "red": "超期", "purple": "督办"},
        "camera_status": {"online": "在线", "offline": "离线", "fault": "故障", "unknown": "未知"},
        "role": {"grid_leader": "网格长", "grid_worker": "网格员", "instructor": "网格指导员",
                 "police_liaison": "网格警务员", "mediator": "网格调解员", "safety_officer": "网格安全员",
                 "volunteer": "志愿者"},
        "category": {"disputes": "矛盾纠纷", "public_security": "社会治安", "fire_hazard": "消防隐患",
                     "city_appearance": "市容环境", "roads_facilities": "道路设施", "environment": "生态环境",
                     "petitions": "信访诉求", "other": "其他"},
        "place_kind": {"school": "学校", "hospital": "医院", "market": "市场", "station": "车站",
                       "business_tower": "商务楼宇", "industrial_park": "产业园区", "park": "公园", "other": "其他"},
        "risk": {"red": "红灯（高风险）", "yellow": "黄灯（关注）", "green": "绿灯（平稳）"},
        "period": {"week": "周", "day": "日"},
        "patrol_mode": {"foot": "步巡", "bike": "骑巡", "car": "车巡"},
        "patrol_window": {"day": "日间", "night": "夜间"},
    },
    "en": {
        "status": {"reported": "reported", "dispatched": "dispatched", "grabbed": "grabbed", "accepted": "accepted",
                   "joint": "joint handling", "handled": "handled", "verified": "verified", "closed": "closed",
                   "returned": "returned"},
        "severity": {"general": "general", "important": "important", "urgent": "important and urgent"},
        "warning": {"green": "on track", "yellow": "due soon", "red": "overdue", "purple": "escalated"},
        "camera_status": {"online": "online", "offline": "offline", "fault": "fault", "unknown": "unknown"},
        "role": {"grid_leader": "grid leader", "grid_worker": "grid worker", "instructor": "instructor",
                 "police_liaison": "police liaison", "mediator": "mediator", "safety_officer": "safety officer",
                 "volunteer": "volunteer"},
        "category": {"disputes": "disputes", "public_security": "public security", "fire_hazard": "fire hazard",
                     "city_appearance": "city appearance", "roads_facilities": "roads and facilities",
                     "environment": "environment", "petitions": "petitions", "other": "other"},
        "place_kind": {"school": "school", "hospital": "hospital", "market": "market", "station": "station",
                       "business_tower": "business tower", "industrial_park": "industrial park", "park": "park",
                       "other": "other"},
        "risk": {"red": "red (high risk)", "yellow": "yellow (watch)", "green": "green (steady)"},
        "period": {"week": "week", "day": "day"},
        "patrol_mode": {"foot": "on foot", "bike": "by bike", "car": "by car"},
        "patrol_window": {"day": "day", "night": "night"},
    },
}


_LIVE = {
    "zh": {"title": "巡查人员", "count": "巡查人员 {n} 人", "field": "网格员", "liaison": "警务", "other": "其他",
           "age_s": "{s} 秒前定位", "age_m": "{m} 分钟前定位", "on_patrol": "巡查中"},
    "en": {"title": "People on patrol", "count": "People on patrol: {n}", "field": "grid worker",
           "liaison": "police", "other": "other", "age_s": "fix {s} s ago", "age_m": "fix {m} min ago",
           "on_patrol": "on patrol"},
}


_PANELS = {
    "zh": {"feed": "最新事件", "feed_empty": "暂无事件", "times": "处置时效",
           "response": "响应时长", "handling": "办结时长", "spans": "响应：上报→派单 · 办结：上报→办结",
           "median": "中位数", "p90": "90%分位", "closure_rate": "办结率", "on_time_rate": "按期办结率",
           "trend": "近30日事件趋势", "current": "近30日", "previous": "前30日",
           "trend_total": "近30日 {current} 件 · 前30日 {previous} 件", "change": "环比 {change}",
           "by_category": "事件类别", "by_source": "事件来源", "minutes": "{n} 分钟", "hours": "{n} 小时",
           "days": "{n} 天", "none": "—", "fly": "在地图上查看", "rest": "其余{n}类"},
    "en": {"feed": "Latest cases", "feed_empty": "No cases yet", "times": "Response and handling",
           "response": "Response", "handling": "Handling",
           "spans": "response: report → dispatch · handling: report → close", "median": "median",
           "p90": "90th pct", "closure_rate": "Closure rate", "on_time_rate": "On-time rate",
           "trend": "Cases per day, 30 days", "current": "Last 30 days", "previous": "30 days before",
           "trend_total": "Last 30 days {current} · 30 days before {previous}", "change": "change {change}",
           "by_category": "By category", "by_source": "By source", "minutes": "{n} min", "hours": "{n} h",
           "days": "{n} d", "none": "—", "fly": "Show on the map", "rest": "{n} others"},
}
"""Labels of the wall's panels (``static/screen/panels.js``): the feed, the trend, the breakdowns and the times."""


def panel_words(lang: str) -> dict[str, Any]:
    """The panels' labels in ``lang``, with the incident sources' names (as the desk names them)."""
    key = "zh" if lang == "zh" else "en"
    return {**_PANELS[key], "sources": dict(_DESK[key]["sources"])}


def live_words(lang: str) -> dict[str, str]:
    """The live positions layer's labels in ``lang`` (the wall's and the desk's): its title, its count, the role
    colours' names and a fix's age."""
    return dict(_LIVE["zh" if lang == "zh" else "en"])


def parse_lang(text: str | None, default: str) -> str:
    """The language asked for, or ``default`` for a missing or unknown one."""
    return text if text in LANGS else default


def words(lang: str) -> dict[str, Any]:
    """Every label the page shows, in ``lang``: plain strings, level names and enum labels."""
    base = _ZH if lang == "zh" else _EN
    return {**base, "levels": {str(k): v for k, v in LEVEL_NAMES[lang].items()}, "enums": _ENUMS[lang],
            "live": live_words(lang), "panels": panel_words(lang)}


def word(lang: str, key: str) -> str:
    """One plain label."""
    return (_ZH if lang == "zh" else _EN)[key]


_LOGIN = {
    "zh": {
        "brand": "综治中心 · 网格化服务管理",
        "login_title": "登录", "name": "用户名", "password": "密码", "login": "登录",
        "wrong_login": "用户名或密码错误",
        "locked": "登录失败次数过多，该用户名或本机地址已暂时锁定，请 {minutes} 分钟后再试",
        "missing": "请输入用户名和密码",
        "form_expired": "登录页面已过期，请重新输入后提交",
        "logout_title": "退出登录", "logged_in_as": "当前登录：{name}（{role}）", "logout": "退出登录",
        "password_title": "修改密码", "current_password": "当前密码", "new_password": "新密码",
        "new_password_again": "再次输入新密码", "save": "保存",
        "wrong_current": "当前密码错误",
        "mismatch": "两次输入的新密码不一致", "fill_all": "请填写所有栏目",
        "same_password": "新密码不能与当前密码相同",
        "password_changed": "密码已修改。其他设备上的登录已全部退出。",
        "password_rules": "密码至少 {min} 个字符，不能是常见密码，也不能包含用户名。",
        "pw_too_short": "新密码太短：至少 {min} 个字符，当前 {got} 个",
        "pw_too_long": "新密码太长：最多 {max} 个字符",
        "pw_common": "新密码属于最常被猜中的密码，请换一个",
        "pw_contains_name": "新密码包含用户名，请换一个",
        "to_screen": "返回大屏", "change_password": "修改密码", "other_lang": "English",
    },
    "en": {
        "brand": "Command centre · Grid governance",
        "login_title": "Log in", "name": "Name", "password": "Password", "login": "Log in",
        "wrong_login": "Wrong name or password",
        "locked": "Too many failed logins: this name or this computer's address is locked for now; "
                  "try again in {minutes} min",
        "missing": "Enter your name and password",
        "form_expired": "The login page had expired; please enter your name and password again",
        "logout_title": "Log out", "logged_in_as": "Logged in as {name} ({role})", "logout": "Log out",
        "password_title": "Change password", "current_password": "Current password", "new_password": "New password",
        "new_password_again": "New password again", "save": "Save",
        "wrong_current": "The current password is wrong",
        "mismatch": "The two new passwords differ", "fill_all": "Fill in every field",
        "same_password": "The new password is the current one; choose another",
        "password_changed": "Your password is changed. Every other login of yours has ended.",
        "password_rules": "At least {min} characters, not a commonly guessed password, not containing your name.",
        "pw_too_short": "The new password is too short: at least {min} characters, got {got}",
        "pw_too_long": "The new password is too long: at most {max} characters",
        "pw_common": "The new password is one of the most commonly guessed; choose another",
        "pw_contains_name": "The new password contains your name; choose another",
        "to_screen": "Back to the screen", "change_password": "Change password", "other_lang": "中文",
    },
}
"""Labels of the login, logout and password pages (:mod:`mapserver.login_pages`)."""


def login_word(lang: str, key: str, **figures: object) -> str:
    """One label of the login pages, with its ``{figures}`` filled in."""
    text = _LOGIN["zh" if lang == "zh" else "en"][key]
    return text.format(**figures) if figures else text


_ADMIN = {
    "zh": {
        "title": "账号管理", "people": "人员", "tokens": "访问令牌", "you": "本人",
        "name": "用户名", "display_name": "显示名称", "role": "角色", "jurisdiction": "辖区",
        "status": "状态", "created": "创建时间", "password_changed": "密码修改时间", "actions": "操作",
        "enabled": "启用", "disabled": "已停用", "whole": "全区", "none": "暂无",
        "scope_whole": "您管理全区的人员和令牌。", "scope_grid": "您管理 {grid} 及其下级网格的人员和令牌。",
        "add_person": "添加人员", "grid": "辖区网格编码", "grid_hint": "街道、社区或小区网格编码；留空表示全区。",
        "initial_password": "初始密码", "add": "添加",
        "change": "修改", "set_role": "保存角色", "set_grid": "保存辖区", "set_display_name": "保存名称",
        "disable": "停用", "enable": "启用", "new_password": "新密码", "reset_password": "重置密码",
        "token_name": "令牌名称", "create_token": "发放令牌", "create": "发放", "revoke": "吊销",
        "token_once": "令牌 {name} 已发放。请立即复制，此后不再显示：",
        "done_created": "已添加 {name}。", "done_changed": "已保存 {name} 的修改。",
        "done_disabled": "已停用 {name}，其登录已全部退出。", "done_enabled": "已启用 {name}。",
        "done_password": "已重置 {name} 的密码，其登录已全部退出。", "done_revoked": "已吊销令牌 {name}。",
        "err_name": "用户名须为 1–64 个字符，不含空格或控制字符。",
        "err_name_taken": "用户名“{name}”已存在（停用的用户名仍被占用）。",
        "err_role": "请选择一个角色。",
        "err_grid_unknown": "没有编码为“{grid}”的街道、社区或小区网格。",
        "err_grid_outside": "超出您的辖区：只能指定 {reach} 或其下级网格。",
        "err_display_name": "显示名称最多 100 个字符，不含换行或控制字符。",
        "err_self_disable": "不能停用自己的账号（请由其他管理员或在服务器上用命令行操作）。",
        "err_self_role": "不能取消自己的系统管理角色（请由其他管理员或在服务器上用命令行操作）。",
        "err_self_grid": "不能缩小自己的辖区（请由其他管理员或在服务器上用命令行操作）。",
        "err_not_found": "没有名为“{name}”的人员。",
        "err_token_name": "令牌名称须为 1–100 个字符，不含控制字符。",
        "err_token_taken": "令牌名称“{name}”已存在（已吊销的名称仍被占用）。",
        "err_token_not_found": "没有名为“{name}”的有效令牌。",
        "err_password": "请输入密码。",
    },
    "en": {
        "title": "Accounts", "people": "People", "tokens": "Tokens", "you": "you",
        "name": "Name", "display_name": "Display name", "role": "Role", "jurisdiction": "Jurisdiction",
        "status": "Status", "created": "Created", "password_changed": "Password changed", "actions": "Actions",
        "enabled": "enabled", "disabled": "disabled", "whole": "whole district", "none": "none yet",
        "scope_whole": "You administer the people and tokens of the whole district.",
        "scope_grid": "You administer the people and tokens of {grid} and the grids inside it.",
        "add_person": "Add a person", "grid": "Jurisdiction grid code",
        "grid_hint": "A street, community or compound grid code; empty for the whole district.",
        "initial_password": "Initial password", "add": "Add",
        "change": "Change", "set_role": "Set role", "set_grid": "Set jurisdiction", "set_display_name": "Set name",
        "disable": "Disable", "enable": "Enable", "new_password": "New password", "reset_password": "Reset password",
        "token_name": "Token name", "create_token": "Create a token", "create": "Create", "revoke": "Revoke",
        "token_once": "Token {name} is created. Copy it now; it is not shown again:",
        "done_created": "{name} is added.", "done_changed": "{name} is changed.",
        "done_disabled": "{name} is disabled; their logins have ended.", "done_enabled": "{name} is enabled.",
        "done_password": "{name}'s password is reset; their logins have ended.",
        "done_revoked": "Token {name} is revoked.",
        "err_name": "A name is 1–64 characters, without spaces or control characters.",
        "err_name_taken": "The name “{name}” is taken (disabled names stay taken).",
        "err_role": "Choose a role.",
        "err_grid_unknown": "No street, community or compound grid has the code “{grid}”.",
        "err_grid_outside": "Outside your jurisdiction: you may give {reach} or a grid inside it only.",
        "err_display_name": "A display name is at most 100 characters, without line breaks or control characters.",
        "err_self_disable": "You cannot disable your own account (another administrator, or the command line on "
                            "the server, may).",
        "err_self_role": "You cannot take away your own admin role (another administrator, or the command line on "
                         "the server, may).",
        "err_self_grid": "You cannot narrow your own jurisdiction (another administrator, or the command line on "
                         "the server, may).",
        "err_not_found": "No person is named “{name}”.",
        "err_token_name": "A token name is 1–100 characters, without control characters.",
        "err_token_taken": "The token name “{name}” is taken (revoked names stay taken).",
        "err_token_not_found": "No live token is named “{name}”.",
        "err_password": "Enter a password.",
    },
}
"""Labels of the accounts page (:mod:`mapserver.admin_pages`)."""


def admin_word(lang: str, key: str, **figures: object) -> str:
    """One label of the accounts page, with its ``{figures}`` filled in."""
    text = _ADMIN["zh" if lang == "zh" else "en"][key]
    return text.format(**figures) if figures else text


_DESK = {
    "zh": {
        "title": "工单台", "brand": "综治中心 · 指挥调度",
        "tab_dispatch": "待派单", "tab_sign": "待签收", "tab_handling": "处置中", "tab_verify": "待核查",
        "tab_overdue": "超期", "tab_whistled": "督办", "tab_closed_today": "今日办结",
        "search": "搜索", "search_placeholder": "事件编号，或描述、地址中的文字（按 / 键）",
        "any": "全部", "category": "类别", "severity": "等级", "warning": "预警", "grid": "网格编码",
        "unit": "承办单位", "source": "来源", "since": "上报自", "until": "上报至", "clear": "清除筛选",
        "id": "编号", "reported_at": "上报时间", "status": "状态", "what": "描述 / 地址", "due_at": "办结时限",
        "closed_at": "办结时间", "dispatch_late": "派单超时", "none": "此栏暂无工单",
        "page": "第 {page} / {pages} 页", "prev": "上一页", "next": "下一页",
        "updated": "更新于", "offline": "连接中断，正在重试…", "to_screen": "一屏统揽", "other_lang": "English",
        "to_intake": "热线受理", "to_patrols": "巡逻规划", "to_scorecards": "单位考评", "to_assessment": "网格员考核",
        "keys": "数字键 1–7 切换栏目 · / 搜索 · j/k 上下 · Enter 打开", "whole": "全区",
        "sources": {"grid_worker": "网格员上报", "public_app": "群众随手拍", "video_patrol": "视频巡查",
                    "hotline": "12345热线", "department": "部门转办"},
    },
    "en": {
        "title": "Work desk", "brand": "Command centre · Dispatch",
        "tab_dispatch": "To dispatch", "tab_sign": "To accept", "tab_handling": "Being handled",
        "tab_verify": "To verify", "tab_overdue": "Overdue", "tab_whistled": "Escalated",
        "tab_closed_today": "Closed today",
        "search": "Search", "search_placeholder": "Case id, or text of the description or address (press /)",
        "any": "any", "category": "Category", "severity": "Severity", "warning": "Warning", "grid": "Grid code",
        "unit": "Unit", "source": "Source", "since": "Reported from", "until": "Reported until",
        "clear": "Clear filters",
        "id": "Id", "reported_at": "Reported", "status": "Status", "what": "Description / address",
        "due_at": "Due", "closed_at": "Closed", "dispatch_late": "dispatch late", "none": "No cases in this tab",
        "page": "Page {page} of {pages}", "prev": "Previous", "next": "Next",
        "updated": "Updated", "offline": "Connection lost, retrying…", "to_screen": "Overview wall",
        "to_intake": "Hotline intake", "to_patrols": "Patrol planner", "to_scorecards": "Unit scorecards",
        "to_assessment": "Grid worker assessment",
        "other_lang": "中文",
        "keys": "Keys 1–7 switch tabs · / search · j/k move · Enter opens", "whole": "whole district",
        "sources": {"grid_worker": "grid worker", "public_app": "public app", "video_patrol": "video patrol",
                    "hotline": "12345 hotline", "department": "department"},
    },
}
"""Labels of the work desk (:mod:`mapserver.desk_page`, ``static/desk/``)."""


def desk_words(lang: str) -> dict[str, Any]:
    """Every label of the work desk in ``lang``, with the enum labels of the wall (statuses, categories …)."""
    return {**_DESK["zh" if lang == "zh" else "en"], "enums": _ENUMS["zh" if lang == "zh" else "en"]}


def desk_word(lang: str, key: str) -> str:
    """One plain label of the work desk."""
    return _DESK["zh" if lang == "zh" else "en"][key]


_INTAKE = {
    "zh": {
        "title": "12345 热线受理", "brand": "综治中心 · 热线受理台",
        "query_label": "地址、路口或坐标",
        "query_placeholder": "如：七一路18号人和小区3栋，或 文昌大道与七一路交叉口，或 114.61,33.61",
        "resolve": "查询", "crs": "坐标系",
        "candidates": "候选地址（请选择）", "candidates_hint": "匹配不确定，请核实后选择一个（↑↓ 选择，回车确认）",
        "score": "匹配度", "no_candidates": "未找到匹配的标准地址，请改写或在地图上点选",
        "no_grid": "不在网格内",
        "card": "网格信息", "chain": "所属层级", "staff": "网格力量", "no_staff": "暂无登记人员", "liaison": "社区民警",
        "point": "坐标", "crossing": "路口", "gap": "两路最近相距 {gap} 米",
        "new_case": "在此新建事件", "case_form": "新建事件", "category": "类别", "severity": "等级",
        "description": "事件描述", "reporter": "来电号码（选填）", "address": "地址", "grid": "网格",
        "save": "保存事件", "cancel": "取消",
        "duplicates": "疑似重复件", "duplicates_hint": "{hours} 小时内、{radius} 米范围内同类未办结事件",
        "no_duplicates": "未发现疑似重复件", "distance": "{m} 米", "link": "关联到此件（不新建）",
        "link_note": "关联说明（选填）",
        "saved": "已新建事件 {id}", "linked": "已关联到事件 {id}（共 {links} 次来电）",
        "error": "出错：{detail}", "map_hint": "点击地图也可定位",
        "to_screen": "返回大屏", "other_lang": "English", "logout": "退出",
    },
    "en": {
        "title": "12345 Hotline intake", "brand": "Command centre · Hotline desk",
        "query_label": "Address, crossing or coordinates",
        "query_placeholder": "e.g. 七一路18号人和小区3栋, 文昌大道与七一路交叉口, or 114.61,33.61",
        "resolve": "Find", "crs": "CRS",
        "candidates": "Candidate addresses (choose one)",
        "candidates_hint": "The match is not certain: check and choose one (↑↓ to move, Enter to choose)",
        "score": "Score", "no_candidates": "No standard address matches; rephrase, or click the map",
        "no_grid": "in no grid",
        "card": "Grid", "chain": "Grid chain", "staff": "Grid staff", "no_staff": "No staff on record",
        "liaison": "Police liaison",
        "point": "Point", "crossing": "Crossing", "gap": "the roads come within {gap} m",
        "new_case": "New case here", "case_form": "New case", "category": "Category", "severity": "Severity",
        "description": "Description", "reporter": "Caller's phone (optional)", "address": "Address", "grid": "Grid",
        "save": "Save case", "cancel": "Cancel",
        "duplicates": "Possible duplicates",
        "duplicates_hint": "open, same category, within {radius} m, last {hours} h",
        "no_duplicates": "No possible duplicates", "distance": "{m} m", "link": "Link to this case (no new case)",
        "link_note": "Note for the link (optional)",
        "saved": "Case {id} created", "linked": "Linked to case {id} ({links} calls in all)",
        "error": "Error: {detail}", "map_hint": "Click the map to place a point",
        "to_screen": "Back to the wall", "other_lang": "中文", "logout": "Log out",
    },
}


def intake_words(lang: str) -> dict[str, Any]:
    """Every label of the intake desk in ``lang`` (the page's script fills the figures in), level names and enum
    labels."""
    return {**_INTAKE[lang], "levels": {str(k): v for k, v in LEVEL_NAMES[lang].items()}, "enums": _ENUMS[lang]}


def intake_word(lang: str, key: str, **figures: object) -> str:
    """One label of the intake desk in ``lang``, with ``figures`` filled in."""
    text = _INTAKE[lang][key]
    return text.format(**figures) if figures else text


_PATROL = {
    "zh": {
        "title": "巡逻路线规划", "brand": "综治中心 · 警务巡逻",
        "form": "规划巡逻", "area": "巡逻范围", "by_liaison": "按社区民警", "by_grids": "按社区（网格）",
        "liaison": "社区民警", "grids": "社区（网格）", "grids_hint": "可多选（按住 Ctrl）",
        "start": "出发点", "start_place": "从重点场所出发", "start_on_map": "在地图上点选",
        "start_hint": "点击地图设置出发点", "start_none": "尚未选择出发点", "start_at": "出发点 {lon}, {lat}",
        "budget": "巡逻时长（分钟）", "mode": "巡逻方式", "window": "时段",
        "must": "必到点", "must_toggle": "添加必到点", "must_hint": "开启后点击地图添加（或按住 Shift 点击地图）",
        "must_clear": "清除", "must_count": "{n} 个必到点", "must_name": "必到点 {n}",
        "plan": "生成路线", "planning": "正在规划…", "planned": "已生成并保存方案 {id}",
        "result": "巡逻方案", "plan_id": "方案编号", "totals": "全程 {km} 公里 · 用时 {min} / {budget} 分钟",
        "stops": "巡逻点位", "order": "序号", "name": "点位", "reasons": "选取原因", "arrival": "到达",
        "arrival_min": "第 {min} 分钟", "start_row": "出发", "dropped": "另有 {n} 个点位因时长或道路不通未纳入",
        "gpx": "下载 GPX", "print": "打印",
        "saved": "已保存方案", "none_saved": "暂无已保存方案", "open": "查看",
        "more": "共 {total} 个，显示最近 {shown} 个",
        "created_by": "制定人", "whole": "全区",
        "reason": {"hot_cell": "事件热点", "blind_spot": "监控盲区", "key_place": "重点场所",
                   "overdue_incident": "超期事件", "requested": "指定必到"},
        "z": "热度 z={z}", "overdue_h": "超期 {h} 小时",
        "read_only": "只读：可查看已保存的巡逻方案", "error": "出错：{detail}",
        "to_screen": "返回大屏", "other_lang": "English", "logout": "退出",
    },
    "en": {
        "title": "Patrol planner", "brand": "Command centre · Police patrols",
        "form": "Plan a patrol", "area": "Area", "by_liaison": "By police liaison", "by_grids": "By community (grid)",
        "liaison": "Police liaison", "grids": "Communities (grids)", "grids_hint": "several with Ctrl",
        "start": "Start", "start_place": "From a key place", "start_on_map": "Picked on the map",
        "start_hint": "Click the map to set the start", "start_none": "No start chosen yet",
        "start_at": "Start {lon}, {lat}",
        "budget": "Budget (minutes)", "mode": "Mode", "window": "Time of day",
        "must": "Must visit", "must_toggle": "Add must-visit points",
        "must_hint": "When on, click the map to add one (or Shift-click the map)",
        "must_clear": "Clear", "must_count": "{n} must-visit points", "must_name": "Must visit {n}",
        "plan": "Plan the route", "planning": "Planning…", "planned": "Plan {id} made and saved",
        "result": "Patrol plan", "plan_id": "Plan id", "totals": "{km} km · {min} of {budget} min",
        "stops": "Stops", "order": "#", "name": "Stop", "reasons": "Why", "arrival": "Arrival",
        "arrival_min": "minute {min}", "start_row": "Start",
        "dropped": "{n} more points left out (time budget or unreachable)",
        "gpx": "Download GPX", "print": "Print",
        "saved": "Saved plans", "none_saved": "No saved plans yet", "open": "Open",
        "more": "{total} in all, the latest {shown} shown",
        "created_by": "By", "whole": "Whole district",
        "reason": {"hot_cell": "hotspot", "blind_spot": "camera blind spot", "key_place": "key place",
                   "overdue_incident": "overdue case", "requested": "must visit"},
        "z": "z={z}", "overdue_h": "{h} h overdue",
        "read_only": "Read only: saved patrol plans", "error": "Error: {detail}",
        "to_screen": "Back to the wall", "other_lang": "中文", "logout": "Log out",
    },
}
"""Labels of the patrol planner (:mod:`mapserver.patrol_page`, ``static/patrols/``)."""


def patrol_words(lang: str) -> dict[str, Any]:
    """Every label of the patrol planner in ``lang`` (the page's script fills the figures in), with the enum
    labels (modes, day or night, place kinds, categories)."""
    return {**_PATROL[lang], "enums": _ENUMS[lang]}


def patrol_word(lang: str, key: str) -> str:
    """One plain label of the patrol planner in ``lang``."""
    return str(_PATROL[lang][key])


_SCORECARDS = {
    "zh": {
        "title": "单位考评", "brand": "综治中心 · 三色预警",
        "by_unit": "按承办单位", "by_street": "按街道", "by_community": "按社区(村)",
        "since": "上报自", "until": "上报至", "apply": "查询",
        "download_csv": "下载 CSV", "download_xlsx": "下载 Excel",
        "key": "编码 / 名称", "name": "名称", "unit": "承办单位", "street": "街道", "community": "社区(村)",
        "code": "编码", "cases": "事件数", "closed": "办结数", "closed_on_time": "按期办结数",
        "overdue_open": "超期未办结",
        "followed_up": "回访数", "satisfied": "满意数", "reopened": "重办事件数", "reopen_count": "重办次数",
        "returns": "返单数",
        "on_time_rate": "按期办结率", "closure_rate": "办结率", "satisfaction_rate": "满意率",
        "reopen_share": "重办率", "return_share": "返单率",
        "colour": "预警", "action": "处置", "reasons": "原因",
        "colour_red": "红色", "colour_yellow": "黄色", "colour_green": "绿色", "colour_unrated": "不参评",
        "action_red": "约谈", "action_yellow": "整改提示", "action_green": "先进典型", "action_unrated": "样本不足",
        "line_red": "红色线", "line_yellow": "黄色线",
        "reason_below": "{rate} {value} 低于{colour} {limit}", "reason_above": "{rate} {value} 高于{colour} {limit}",
        "period": "统计期：{since} 至 {until}（按上报时间）", "none": "统计期内暂无事件",
        "loading": "加载中…", "failed": "加载失败：{detail}", "to_desk": "工单台", "other_lang": "English",
        "whole": "全区", "sheet": "单位考评",
    },
    "en": {
        "title": "Unit scorecards", "brand": "Command centre · Three-colour warnings",
        "by_unit": "By unit", "by_street": "By street", "by_community": "By community",
        "since": "Reported from", "until": "Reported until", "apply": "Show", "download_csv": "Download CSV",
        "download_xlsx": "Download Excel",
        "key": "Code / name", "name": "Name", "unit": "Unit", "street": "Street", "community": "Community",
        "code": "Code", "cases": "Cases", "closed": "Closed", "closed_on_time": "Closed on time",
        "overdue_open": "Open past due", "followed_up": "Followed up", "satisfied": "Satisfied",
        "reopened": "Cases reopened", "reopen_count": "Reopenings", "returns": "Returns",
        "on_time_rate": "On-time rate", "closure_rate": "Closure rate", "satisfaction_rate": "Satisfaction",
        "reopen_share": "Reopen share", "return_share": "Return share",
        "colour": "Warning", "action": "Action", "reasons": "Reasons",
        "colour_red": "Red", "colour_yellow": "Yellow", "colour_green": "Green", "colour_unrated": "Not rated",
        "action_red": "formal talk", "action_yellow": "correction notice", "action_green": "good example",
        "action_unrated": "too few to rate",
        "line_red": "the red line", "line_yellow": "the yellow line",
        "reason_below": "{rate} {value} below {colour} {limit}",
        "reason_above": "{rate} {value} above {colour} {limit}",
        "period": "Period: {since} to {until} (by report time)", "none": "No cases in this period",
        "loading": "Loading…", "failed": "Could not load: {detail}", "to_desk": "Work desk", "other_lang": "中文",
        "whole": "whole district", "sheet": "Scorecards",
    },
}
"""Labels of the unit scorecards (:mod:`mapserver.incidents.scorecards`, :mod:`mapserver.scorecards_page`,
``static/scorecards/``)."""


def scorecard_words(lang: str) -> dict[str, str]:
    """Every label of the unit scorecards in ``lang`` (the page's script fills the figures in)."""
    return dict(_SCORECARDS["zh" if lang == "zh" else "en"])


def scorecard_word(lang: str, key: str, **figures: object) -> str:
    """One label of the unit scorecards in ``lang``, with ``figures`` filled in."""
    text = _SCORECARDS["zh" if lang == "zh" else "en"][key]
    return text.format(**figures) if figures else text


_ASSESSMENT = {
    "zh": {
        "title": "网格员考核", "brand": "综治中心 · 月度考核", "month": "考核月份", "grid": "网格编码",
        "apply": "查询", "download_csv": "下载 CSV", "download_xlsx": "下载 Excel",
        "to_desk": "工单台", "to_scorecards": "单位考评", "other_lang": "English", "whole": "全区",
        "sheet": "网格员考核", "reasons": "原因", "score": "得分", "grade": "等级", "name": "网格员",
        "reported": "上报事件", "handled": "处置（按期/超期）", "reopened": "被重办", "satisfaction": "满意率",
        "distance": "巡查里程", "hours": "巡查时长", "in_grid": "在格时长", "stops": "点位打卡率",
        "reports": "上报事件数", "on_time": "按期处置率", "reopen": "重办率",
        "grade_excellent": "优秀", "grade_pass": "合格", "grade_basic": "基本合格", "grade_fail": "不合格",
        "reason_below": "{measure} {value}，目标 {target}", "reason_above": "{measure} {value}，应为 {target}",
        "col_person": "账号", "col_name": "姓名", "col_grid_code": "网格编码", "col_score": "得分",
        "col_label": "等级", "col_reported": "上报事件数", "col_handled": "处置数", "col_handled_on_time": "按期处置数",
        "col_handled_late": "超期处置数", "col_reopened": "被重办数", "col_followed_up": "回访数",
        "col_satisfied": "满意数", "col_distance_km": "巡查里程(km)", "col_patrol_hours": "巡查时长(h)",
        "col_in_grid_hours": "在格时长(h)", "col_patrol_days": "巡查天数", "col_stops_planned": "计划点位",
        "col_stops_visited": "已打卡点位",
        "day": "日期", "fixes": "定位点", "days_title": "{name} · {month} 逐日巡查", "close": "关闭",
        "period": "考核月份：{month}（{since} 至 {until}，按当地时间）", "none": "暂无网格员",
        "loading": "加载中…", "failed": "加载失败：{detail}", "open_hint": "回车或点击查看该网格员本月明细",
        "today_note": "当日数据实时显示，不计入本月；次日起计入并固定", "today": "今日（不计入）",
        "share_col": "{measure}（得分率）",
    },
    "en": {
        "title": "Grid worker assessment", "brand": "Command centre · Monthly assessment", "month": "Month",
        "grid": "Grid code", "apply": "Show", "download_csv": "Download CSV", "download_xlsx": "Download Excel",
        "to_desk": "Work desk", "to_scorecards": "Unit scorecards", "other_lang": "中文", "whole": "whole district",
        "sheet": "Assessment", "reasons": "Reasons", "score": "Score", "grade": "Grade", "name": "Grid worker",
        "reported": "Reported", "handled": "Handled (on time/late)", "reopened": "Reopened",
        "satisfaction": "Satisfaction", "distance": "Distance patrolled", "hours": "Hours patrolled",
        "in_grid": "Hours in own grid", "stops": "Planned stops visited", "reports": "Cases reported",
        "on_time": "On-time handling", "reopen": "Reopen share",
        "grade_excellent": "Excellent", "grade_pass": "Pass", "grade_basic": "Basic pass", "grade_fail": "Fail",
        "reason_below": "{measure} {value}, target {target}", "reason_above": "{measure} {value}, should be {target}",
        "col_person": "Account", "col_name": "Name", "col_grid_code": "Grid code", "col_score": "Score",
        "col_label": "Grade", "col_reported": "Reported", "col_handled": "Handled",
        "col_handled_on_time": "Handled on time", "col_handled_late": "Handled late", "col_reopened": "Reopened",
        "col_followed_up": "Followed up", "col_satisfied": "Satisfied", "col_distance_km": "Distance (km)",
        "col_patrol_hours": "Hours moving", "col_in_grid_hours": "Hours in own grid",
        "col_patrol_days": "Days patrolled",
        "col_stops_planned": "Stops planned", "col_stops_visited": "Stops visited",
        "day": "Day", "fixes": "Fixes", "days_title": "{name} · {month} day by day", "close": "Close",
        "period": "Month: {month} ({since} to {until}, local time)", "none": "No grid workers",
        "loading": "Loading…", "failed": "Could not load: {detail}",
        "open_hint": "Enter or click to open this worker's month",
        "today_note": "Today is shown live and not counted; from tomorrow it counts and is fixed",
        "today": "today (not counted)", "share_col": "{measure} (share of marks)",
    },
}
"""Labels of the grid workers' assessment (:mod:`mapserver.assessment`, :mod:`mapserver.assessment_page`,
``static/assessment/``)."""


def assessment_words(lang: str) -> dict[str, str]:
    """Every label of the grid workers' assessment in ``lang`` (the page's script fills the figures in)."""
    return dict(_ASSESSMENT["zh" if lang == "zh" else "en"])


def assessment_word(lang: str, key: str, **figures: object) -> str:
    """One label of the grid workers' assessment in ``lang``, with ``figures`` filled in."""
    text = _ASSESSMENT["zh" if lang == "zh" else "en"][key]
    return text.format(**figures) if figures else text

_CASE = {
    "zh": {
        "title": "工单", "brand": "综治中心 · 工单详情", "to_desk": "返回工单台", "to_screen": "一屏统揽",
        "other_lang": "English", "facts": "事件信息", "category": "类别", "severity": "等级", "status": "状态",
        "warning": "预警", "due_at": "办结时限", "unit": "承办单位", "source": "来源", "address": "地址",
        "description": "描述", "reported_at": "上报时间", "version": "版本", "actions": "可办理操作",
        "no_actions": "当前无可办理操作", "card": "网格信息", "chain": "所属层级", "staff": "网格力量",
        "liaison": "社区民警", "no_staff": "暂无登记人员", "cameras": "周边视频", "covering": "视野覆盖事发点",
        "nearby": "{m} 米内在线摄像机（视野未覆盖）", "no_cameras": "无覆盖或附近在线摄像机", "distance": "{m} 米",
        "follow_up": "回访", "follow_up_due": "待回访", "satisfaction": "满意度", "comment": "回访记录",
        "reopens": "重新办理 {n} 次", "not_followed": "尚未回访",
        "whistle": "吹哨报到", "reported": "已报到", "pending": "未报到", "overdue": "报到超时",
        "report_by": "报到时限", "timeline": "办理经过", "note": "说明", "level": "哨级", "departments": "部门",
        "departments_hint": "每行一个部门", "result": "处置结果", "reason": "原因", "department": "报到部门",
        "submit": "提交", "cancel": "取消（Esc）", "saved": "已办理：{action}",
        "conflict": "他人已先行办理，已刷新为最新状态。服务器说明：{detail}", "error": "出错：{detail}",
        "offline": "连接中断，正在重试…", "updated": "更新于", "changed": "工单已更新", "none": "—",
        "not_found": "工单不存在或不在辖区内",
        "action_names": {"report": "上报", "link": "关联来电",
                         "dispatch": "派单", "grab": "抢单", "accept": "签收", "return": "返单", "split": "分单",
                         "joint": "联单", "handle": "处置", "verify": "核查", "reject": "核查不通过",
                         "close": "办结", "whistle": "吹哨", "report_in": "报到", "follow_up": "回访"},
        "whistle_levels": {"routine": "常规哨（街道）", "key": "重点哨（区级）"},
        "satisfactions": {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"},
        "list_sep": "、",
        "refusals": {
            "changed_meanwhile": "他人已先行办理：{by} 于 {at} {done}，工单现为「{status}」，已刷新为最新状态。",
            "changed_meanwhile_plain": "他人已先行办理，工单现为「{status}」，已刷新为最新状态。",
            "not_allowed_now": "工单现为「{status}」，不能{action}；当前可办理：{allowed}。",
            "nothing_allowed": "无",
            "unknown_action": "无法识别的操作“{action}”。",
            "role_may_not": "“{action}”须由{roles}办理，您的角色是{role}。",
            "unit_required": "“{action}”须选定承办单位。",
            "unit_unknown": "“{unit}”不是已配置的承办单位。",
            "unit_unknown_near": "“{unit}”不是已配置的承办单位，是否要找：{near}？",
            "unit_out_of_reach": "承办单位“{unit}”不服务于您的辖区。",
            "followed_up_already": "本次办结已回访，每次办结只回访一次。",
            "none_pending": "没有待报到的部门。",
            "not_pending": "“{unit}”不在待报到之列。",
            "not_called_out": "“{unit}”未被点名报到；待报到：{pending}。",
            "reported_in_already": "“{unit}”已于 {at} 报到。",
            "called_out_already": "“{unit}”已被此前的吹哨点名。",
            "report_by_required": "点名部门报到须填写报到时限。",
            "report_by_past": "报到时限须晚于现在。",
            "departments_count": "点名部门须为 1 至 {most} 个。",
            "department_twice": "同一部门点名了两次。",
        },
        "photos": "现场照片", "no_photos": "暂无照片", "photo_open": "查看原图",
        "photo_kinds": {"report": "上报", "before": "处置前", "after": "处置后", "other": "其他"},
    },
    "en": {
        "title": "Case", "brand": "Command centre · Case", "to_desk": "Back to the desk", "to_screen": "Overview wall",
        "other_lang": "中文", "facts": "Facts", "category": "Category", "severity": "Severity", "status": "Status",
        "warning": "Warning", "due_at": "Due", "unit": "Unit", "source": "Source", "address": "Address",
        "description": "Description", "reported_at": "Reported", "version": "Version", "actions": "Actions",
        "no_actions": "Nothing for you to do now", "card": "Grid", "chain": "Grid chain", "staff": "Grid staff",
        "liaison": "Police liaison", "no_staff": "No staff on record", "cameras": "Cameras",
        "covering": "Views covering the point", "nearby": "Online cameras within {m} m (not seeing it)",
        "no_cameras": "No camera covers it or is online nearby", "distance": "{m} m",
        "follow_up": "Follow-up", "follow_up_due": "Follow-up due", "satisfaction": "Satisfaction",
        "comment": "Comment", "reopens": "reopened {n} times", "not_followed": "Not followed up yet",
        "whistle": "Whistle and report-in", "reported": "Reported in", "pending": "Pending", "overdue": "Overdue",
        "report_by": "Report by", "timeline": "Timeline", "note": "Note", "level": "Level",
        "departments": "Departments", "departments_hint": "one department a line", "result": "Handling result",
        "reason": "Reason", "department": "Department reporting in", "submit": "Submit", "cancel": "Cancel (Esc)",
        "saved": "Done: {action}",
        "conflict": "Someone acted first; this is the case as it stands now. The server says: {detail}",
        "error": "Error: {detail}", "offline": "Connection lost, retrying…", "updated": "Updated",
        "changed": "The case changed", "none": "—", "not_found": "No such case in your jurisdiction",
        "action_names": {"report": "Report", "link": "Linked call",
                         "dispatch": "Dispatch", "grab": "Grab", "accept": "Accept", "return": "Return",
                         "split": "Split", "joint": "Joint handling", "handle": "Handle", "verify": "Verify",
                         "reject": "Reject", "close": "Close", "whistle": "Whistle", "report_in": "Report in",
                         "follow_up": "Follow up"},
        "whistle_levels": {"routine": "routine (street)", "key": "key (district)"},
        "satisfactions": {"satisfied": "satisfied", "basically_satisfied": "basically satisfied",
                          "unsatisfied": "unsatisfied"},
        "list_sep": ", ",
        "refusals": {
            "changed_meanwhile": "Someone acted first: {by} did “{done}” at {at}; the case is now {status}. "
                                 "This is the case as it stands now.",
            "changed_meanwhile_plain": "Someone acted first; the case is now {status}. "
                                       "This is the case as it stands now.",
            "not_allowed_now": "The case is {status}: “{action}” is not possible now; possible now: {allowed}.",
            "nothing_allowed": "nothing",
            "unknown_action": "Unknown action “{action}”.",
            "role_may_not": "“{action}” is for {roles}; you are {role}.",
            "unit_required": "“{action}” needs the unit that takes the case.",
            "unit_unknown": "“{unit}” is not a configured unit.",
            "unit_unknown_near": "“{unit}” is not a configured unit; did you mean {near}?",
            "unit_out_of_reach": "The unit “{unit}” does not serve your jurisdiction.",
            "followed_up_already": "This closing was followed up already; one follow-up per closing.",
            "none_pending": "No department is waiting to report in.",
            "not_pending": "“{unit}” is not waiting to report in.",
            "not_called_out": "“{unit}” was not called out; waiting for: {pending}.",
            "reported_in_already": "“{unit}” reported in already, at {at}.",
            "called_out_already": "“{unit}” was called out by an earlier whistle already.",
            "report_by_required": "Calling departments out needs the time they must report in by.",
            "report_by_past": "The report-by time must be later than now.",
            "departments_count": "Call out 1 to {most} departments.",
            "department_twice": "A department is named twice.",
        },
        "photos": "Photos", "no_photos": "No photos yet", "photo_open": "Open the full photo",
        "photo_kinds": {"report": "report", "before": "before handling", "after": "after handling", "other": "other"},
    },
}
"""Labels of the work desk's case page (:mod:`mapserver.case_page`, ``static/case/``)."""


def case_words(lang: str) -> dict[str, Any]:
    """Every label of the case page in ``lang``, with the desk's sources, level names and the wall's enums."""
    key = "zh" if lang == "zh" else "en"
    return {**_CASE[key], "sources": _DESK[key]["sources"],
            "levels": {str(k): v for k, v in LEVEL_NAMES[key].items()}, "enums": _ENUMS[key]}


def case_word(lang: str, key: str) -> str:
    """One plain label of the case page."""
    return _CASE["zh" if lang == "zh" else "en"][key]


_MOBILE = {
    "zh": {
        "title": "网格员", "brand": "网格通 · 网格员移动端", "tasks": "我的任务", "report": "上报", "patrol": "巡逻",
        "other_lang": "English", "logout": "退出",
        "logout_waiting": "还有 {n} 条未发送，退出后将从本机删除。确定退出？", "none": "暂无待办任务",
        "due": "时限 {t}", "no_due": "无时限",
        "as_of": "无网络，显示 {t} 时的任务", "offline": "无网络：上报和处置将保存在手机上，恢复网络后自动发送",
        "outbox": "待发送 {n} 条", "outbox_empty": "", "sending": "正在发送…", "send_now": "立即发送",
        "login_again": "登录已过期：重新登录后将继续发送", "refused": "未能发送（{what}）：{detail}",
        "category": "类别", "severity": "等级", "description": "描述",
        "description_placeholder": "发生了什么？（必填）", "photos": "照片（最多 {n} 张）",
        "add_photo": "拍照或选择照片",
        "remove": "移除", "location": "位置", "locate": "重新定位", "locating": "正在获取手机定位…",
        "accuracy": "手机定位，精度约 {m} 米", "pinned": "已在地图上手动调整位置",
        "pin_hint": "拖动地图上的标记可调整位置", "no_location": "尚未取得位置：请允许定位，或拖动标记",
        "geo_failed": "无法取得手机定位（{detail}），请拖动地图上的标记", "grid": "所在网格",
        "grid_offline": "无网络：发送时由服务器确定网格", "no_grid": "该点不在任何网格内", "send": "上报",
        "queued": "已保存在手机上，恢复网络后自动发送", "sent": "已上报，所在网格：{grid}", "error": "出错：{detail}",
        "task": "任务", "status": "状态", "warning": "预警", "address": "地址", "reported_at": "上报时间",
        "due_at": "办结时限", "unit": "承办单位", "accept": "签收", "handle": "处置完成", "note": "处置说明",
        "note_placeholder": "如何处置的？（必填）", "before": "处置前照片", "after": "处置后照片",
        "accepted": "已签收", "handled": "已提交处置结果", "queued_action": "已保存：{action}，恢复网络后自动发送",
        "conflict": "他人已先行办理，请刷新查看最新状态：{detail}", "no_actions": "当前无需您办理",
        "not_found": "任务不存在或不在您的辖区内", "back": "返回任务",
        "patrol_plan": "今日巡逻计划", "no_plan": "暂无巡逻计划",
        "plan_made": "今日暂无新计划，以下为 {t} 制定的计划", "stops": "巡逻点位", "start": "开始巡逻",
        "stop": "结束巡逻", "running": "巡逻中：已记录 {n} 个位置", "checkin": "签到", "checked_in": "已签到",
        "start_plan": "按计划开始巡逻", "started": "巡逻已开始", "stopped": "巡逻已结束",
        "checked_in_at": "已在{stop}签到", "away": "相距约 {m} 米", "positions": "{n} 个位置",
        "minutes": "{n} 分钟", "km": "{km} 公里",
        "kinds": {"report": "上报", "transition": "办理", "photo": "照片", "fixes": "巡逻位置", "patrol": "巡逻"},
    },
    "en": {
        "title": "Grid worker", "brand": "Grid worker's phone", "tasks": "My tasks", "report": "Report",
        "patrol": "Patrol", "other_lang": "中文", "logout": "Log out",
        "logout_waiting": "{n} items are not sent yet; logging out deletes them from this phone. Log out?",
        "none": "Nothing to do for now",
        "due": "due {t}", "no_due": "no due time", "as_of": "Offline: tasks as of {t}",
        "offline": "No signal: reports and handling stay on the phone and are sent when the connection returns",
        "outbox": "{n} waiting to send", "outbox_empty": "", "sending": "Sending…", "send_now": "Send now",
        "login_again": "Your session ended: log in again and sending resumes",
        "refused": "Not sent ({what}): {detail}", "category": "Category", "severity": "Severity",
        "description": "Description", "description_placeholder": "What happened? (required)",
        "photos": "Photos (up to {n})", "add_photo": "Take or choose photos", "remove": "Remove",
        "location": "Location", "locate": "Locate again", "locating": "Asking the phone where it is…",
        "accuracy": "From the phone, within about {m} m", "pinned": "Moved by hand on the map",
        "pin_hint": "Drag the marker on the map to correct the place",
        "no_location": "No location yet: allow location, or drag the marker",
        "geo_failed": "The phone gave no location ({detail}); drag the marker on the map", "grid": "Grid",
        "grid_offline": "No signal: the server finds the grid when the report is sent",
        "no_grid": "This point lies in no grid", "send": "Send report",
        "queued": "Kept on the phone; it is sent when the connection returns", "sent": "Reported, grid: {grid}",
        "error": "Error: {detail}", "task": "Task", "status": "Status", "warning": "Warning", "address": "Address",
        "reported_at": "Reported", "due_at": "Due", "unit": "Unit", "accept": "Accept", "handle": "Handled",
        "note": "Handling notes", "note_placeholder": "What was done? (required)", "before": "Photos before",
        "after": "Photos after", "accepted": "Accepted", "handled": "Handling result sent",
        "queued_action": "Kept: {action}; it is sent when the connection returns",
        "conflict": "Someone acted first; reload to see the case as it stands: {detail}",
        "no_actions": "Nothing for you to do on this case now", "not_found": "No such task in your jurisdiction",
        "back": "Back to my tasks", "patrol_plan": "Today's patrol", "no_plan": "No patrol planned",
        "plan_made": "No plan made today; this one was made {t}",
        "stops": "Stops", "start": "Start patrol", "stop": "Stop patrol", "running": "On patrol: {n} positions kept",
        "checkin": "Check in", "checked_in": "Checked in", "start_plan": "Start patrol on this plan",
        "started": "Patrol started", "stopped": "Patrol stopped", "checked_in_at": "Checked in at {stop}",
        "away": "about {m} m away", "positions": "{n} positions",
        "minutes": "{n} min", "km": "{km} km",
        "kinds": {"report": "report", "transition": "handling", "photo": "photo", "fixes": "positions",
                  "patrol": "patrol"},
    },
}
"""Labels of the grid worker's phone pages (:mod:`mapserver.mobile_page`, ``static/m/``)."""


def mobile_words(lang: str) -> dict[str, Any]:
    """Every label of the phone pages in ``lang``, with the wall's enums (statuses, severities, warnings)."""
    key = "zh" if lang == "zh" else "en"
    return {**_MOBILE[key], "enums": _ENUMS[key]}


def mobile_word(lang: str, key: str) -> str:
    """One plain label of the phone pages."""
    return _MOBILE["zh" if lang == "zh" else "en"][key]
