"""The incident's closed loop as a state machine (事件闭环, 五单办理).

report 上报 → dispatch 派单 (the district sends it to a unit) or grab 抢单 (a
street takes it) → accept 签收 → handle 处置 → verify 核查 → close 办结.
Along the way a unit may return it upward 返单, a street may split it down to
sub-units 分单, ask departments to handle it jointly 联单, and blow the whistle
吹哨 to escalate it: a routine whistle 常规哨 at street level or a key whistle
重点哨 at district level. A failed verification sends it back to handling.

A whistle may name the departments that must report in 报到 by a time; each
department's report-in (``report_in``) is recorded while it is pending. After
办结 the hotline calls the reporter back 回访 (``follow_up``) once per closing:
satisfied 满意 or basically satisfied 基本满意 keeps it closed; unsatisfied 不满意
reopens it to the unit that had it (status ``accepted``, the original deadline
kept, the reopening counted against the unit).

Each action names the statuses it may start from and the status it leads to;
the whistle and the report-in keep the status (the whistle marks the incident
escalated, the fourth warning colour); the follow-up's status depends on the
satisfaction (:func:`target_status`).
"""

from __future__ import annotations

from dataclasses import dataclass

from mapserver.errors import Problem
from mapserver.model import INCIDENT_STATUSES, SATISFACTIONS, SATISFIED

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
    target: str | None  # None: the status stays (whistle, report-in, a satisfied follow-up)
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
    Action("report_in", "报到", OPEN_STATUSES, None, needs_unit=True),
    Action("follow_up", "回访", ("closed",), None),
)}
WHISTLE_LEVELS = {"routine": "常规哨", "key": "重点哨"}
SATISFACTION = dict(zip(SATISFACTIONS, ("满意", "基本满意", "不满意"), strict=True))
REOPENED_STATUS = "accepted"
"""Where an unsatisfied follow-up sends a case: back to handling by the unit that had it."""


def allowed_actions(status: str, *, followed_up: bool = False, awaiting_report_in: bool = False) -> list[str]:
    """The actions an incident in ``status`` may take, in the order of the loop: a closing already followed up
    takes no follow-up, and a report-in needs a whistle's report-ins pending."""
    return [name for name, action in ACTIONS.items() if status in action.sources
            and not (name == "follow_up" and followed_up) and not (name == "report_in" and not awaiting_report_in)]


def plan_transition(status: str, action_name: str) -> Action:
    """The action, if it may start from ``status``; else 409 (or 422 for an unknown action) listing the allowed,
    with the members ``reason`` (``not_allowed_now`` or ``unknown_action``), ``action``, ``current_status`` and
    ``allowed``."""
    allowed = allowed_actions(status)
    action = ACTIONS.get(action_name)
    if action is None:
        raise Problem(422, f"unknown action '{action_name}'; actions: {', '.join(ACTIONS)}", param="action",
                      members={"reason": "unknown_action", "action": action_name})
    if status not in action.sources:
        raise Problem(409, f"cannot {action_name} an incident that is {status}; allowed now: "
                           f"{', '.join(allowed) or 'none (it is closed)'}", param="action",
                      members={"reason": "not_allowed_now", "action": action_name, "current_status": status,
                               "allowed": allowed})
    return action


def target_status(status: str, action: Action, satisfaction: str | None = None) -> str:
    """The status after ``action`` (the whistle and the report-in keep the current one; a follow-up keeps it
    closed unless the reporter is unsatisfied, which reopens it)."""
    if action.name == "follow_up" and satisfaction not in SATISFIED:
        return REOPENED_STATUS
    return action.target or status
