"""The incident's closed loop as a state machine (事件闭环, 五单办理).

report 上报 → dispatch 派单 (the district sends it to a unit) or grab 抢单 (a
street takes it) → accept 签收 → handle 处置 → verify 核查 → close 办结.
Along the way a unit may return it upward 返单, a street may split it down to
sub-units 分单, ask departments to handle it jointly 联单, and blow the whistle
吹哨 to escalate it: a routine whistle 常规哨 at street level or a key whistle
重点哨 at district level. A failed verification sends it back to handling.

Each action names the statuses it may start from and the status it leads to;
the whistle keeps the status and marks the incident escalated (the fourth
warning colour).
"""

from __future__ import annotations

from dataclasses import dataclass

from mapserver.errors import Problem
from mapserver.model import INCIDENT_STATUSES

STATUSES = INCIDENT_STATUSES
OPEN_STATUSES = tuple(s for s in STATUSES if s != "closed")
STATUS_LABELS = {
    "reported": "已上报", "dispatched": "已派单", "grabbed": "已抢单", "accepted": "已签收", "joint": "联合处置",
    "handled": "已处置", "verified": "已核查", "closed": "已办结", "returned": "已返单",
}


@dataclass(frozen=True)
class Action:
    """One kind of transition: where it may start, where it leads, what it needs."""

    name: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the status stays (whistle)
    needs_unit: bool = False


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("dispatch", "派单", ("reported", "returned"), "dispatched", needs_unit=True),
    Action("grab", "抢单", ("reported", "returned"), "grabbed", needs_unit=True),
    Action("accept", "签收", ("dispatched", "grabbed"), "accepted"),
    Action("return", "返单", ("dispatched", "grabbed", "accepted"), "returned"),
    Action("split", "分单", ("grabbed", "accepted"), "dispatched", needs_unit=True),
    Action("joint", "联单", ("accepted",), "joint", needs_unit=True),
    Action("handle", "处置", ("accepted", "joint"), "handled"),
    Action("verify", "核查", ("handled",), "verified"),
    Action("reject", "核查不通过", ("handled",), "accepted"),
    Action("close", "办结", ("verified",), "closed"),
    Action("whistle", "吹哨", OPEN_STATUSES, None),
)}
WHISTLE_LEVELS = {"routine": "常规哨", "key": "重点哨"}


def allowed_actions(status: str) -> list[str]:
    """The actions an incident in ``status`` may take, in the order of the loop."""
    return [name for name, action in ACTIONS.items() if status in action.sources]


def plan_transition(status: str, action_name: str) -> Action:
    """The action, if it may start from ``status``; else 409 (or 422 for an unknown action) listing the allowed."""
    allowed = allowed_actions(status)
    action = ACTIONS.get(action_name)
    if action is None:
        raise Problem(422, f"unknown action '{action_name}'; actions: {', '.join(ACTIONS)}", param="action")
    if status not in action.sources:
        raise Problem(409, f"cannot {action_name} an incident that is {status}; allowed now: "
                           f"{', '.join(allowed) or 'none (it is closed)'}", param="action")
    return action


def target_status(status: str, action: Action) -> str:
    """The status after ``action`` (the whistle keeps the current one)."""
    return action.target or status
