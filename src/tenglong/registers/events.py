"""Typed audit events: every audited change has a stable name, the entity it concerns and a sentence.

Modelled on datasette's ``events.py``: an event type is declared once, with a
stable ``name`` (what the audit log stores and filters on), the ``entity`` kind it
concerns, and a Chinese and an English sentence that say what happened. The
services record events, never free strings (``Writer.record`` refuses a type that
is not registered here).

Two kinds of event types exist:

* the platform's own (accounts, projects, imports of data…), declared below;
* one per move of every workflow (``registers/workflow.py``), registered when the
  workflow is loaded, so a new workflow written as data brings its events with it;
* four per register kind besides its moves (``registers/kinds.py``): ``<kind>.propose``
  (the platform proposes an entry), ``<kind>.add`` (a person adds one, with a reason),
  ``<kind>.import`` (an entry imported from a workbook, with its file and row) and
  ``<kind>.suggest`` (the platform notes that an entry may be closed off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["EVENTS", "EventType", "Events", "sentence", "title"]

_ID_IN_BRACKETS = re.compile(r"\s*[（(][^（）()]*\{id\}[^（）()]*[）)]")
_ID = re.compile(r"\s*#?\{id\}")
_HAN_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


@dataclass(frozen=True)
class EventType:
    """One kind of audited change.

    Attributes:
        name: stable id, ``<subject>.<verb>`` (e.g. ``application.approve``).
        entity: the kind of record it concerns (``subsidy_application``, ``user``…).
        zh: what happened, in Chinese; ``{id}`` is the record's id.
        en: the same in English.
    """

    name: str
    entity: str
    zh: str
    en: str

    def describe(self, entity_id: object, lang: str = "zh") -> str:
        """The sentence for one record, e.g. ``批准补助申请 #12``."""
        return (self.zh if lang == "zh" else self.en).format(id=entity_id)

    def title(self, lang: str = "zh") -> str:
        """The sentence without a record, as a choice of event, e.g. ``批准补助申请``.

        >>> EventType("user.reset_password", "user", "重置账号 #{id} 的密码", "reset account #{id}").title()
        '重置账号的密码'
        >>> EventType("login.failed", "user", "用户名 {id} 登录失败", "failed sign-in as {id}").title("en")
        'failed sign-in'
        >>> EventType("import.upload", "data_import", "上传文件（导入 #{id}）", "uploaded (import #{id})").title()
        '上传文件'
        """
        text = _ID.sub("", _ID_IN_BRACKETS.sub("", self.zh if lang == "zh" else self.en))
        text = _HAN_GAP.sub("", text).strip(" :：")
        return re.sub(r"\s+(as|of)$", "", text)


class Events:
    """The registry of event types, by name."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def define(self, name: str, entity: str, zh: str, en: str) -> EventType:
        """Register (or return the identical, already registered) event type.

        Raises:
            ValueError: when ``name`` is registered with a different meaning.
        """
        event = EventType(name, entity, zh, en)
        known = self._types.get(name)
        if known is not None and known != event:
            raise ValueError(f"event {name} is already defined differently: {known}")
        self._types[name] = event
        return event

    def __getitem__(self, name: str) -> EventType:
        return self._types[name]

    def __contains__(self, item: object) -> bool:
        return (item.name if isinstance(item, EventType) else item) in self._types

    def __iter__(self):
        return iter(sorted(self._types.values(), key=lambda e: e.name))

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._types)


EVENTS = Events()

# Accounts and sessions.
USER_CREATE = EVENTS.define("user.create", "user", "创建账号 #{id}", "created account #{id}")
USER_DEACTIVATE = EVENTS.define("user.deactivate", "user", "停用账号 #{id}", "deactivated account #{id}")
USER_REACTIVATE = EVENTS.define("user.reactivate", "user", "启用账号 #{id}", "reactivated account #{id}")
USER_RESET_PASSWORD = EVENTS.define(
    "user.reset_password", "user", "重置账号 #{id} 的密码", "reset the password of account #{id}"
)
USER_UNLOCK = EVENTS.define("user.unlock", "user", "解除账号 #{id} 的登录锁定", "unlocked account #{id}")
LOGIN = EVENTS.define("login", "user", "账号 #{id} 登录", "account #{id} signed in")
LOGIN_FAILED = EVENTS.define("login.failed", "user", "用户名 {id} 登录失败", "failed sign-in as {id}")
LOGOUT = EVENTS.define("logout", "user", "账号 #{id} 退出登录", "account #{id} signed out")

# Projects (the inputs of 2.10 / 2.11).
PROJECT_CREATE = EVENTS.define("project.create", "project", "新建项目 #{id}", "created project #{id}")
PROJECT_UPDATE = EVENTS.define("project.update", "project", "修改项目 #{id}", "changed project #{id}")
PROJECT_CORRECT = EVENTS.define(
    "project.correct", "project", "更正项目 #{id} 已登记的阶段记录", "corrected the recorded stages of project #{id}"
)

# The enterprise register: the A.3.16 tags of an enterprise (上市企业, 国家“小巨人”企业…), set on its profile.
ENTERPRISE_TAGS = EVENTS.define(
    "enterprise.tags", "enterprise", "修改企业 {id} 的标签（A.3.16）", "changed the tags of enterprise {id} (A.3.16)"
)

# Subsidy applications: created and recomputed outside the workflow's moves.
APPLICATION_CREATE = EVENTS.define(
    "application.create", "subsidy_application", "新建补助申请 #{id}", "created subsidy application #{id}"
)
APPLICATION_RECOMPUTE = EVENTS.define(
    "application.recompute", "subsidy_application", "重新计算补助申请 #{id}", "recomputed subsidy application #{id}"
)

# Attachments (evidence files of applications and registers): every upload and every removal.
ATTACHMENT_UPLOAD = EVENTS.define("attachment.upload", "attachment", "上传附件 #{id}", "uploaded attachment #{id}")
ATTACHMENT_REMOVE = EVENTS.define("attachment.remove", "attachment", "删除附件 #{id}", "removed attachment #{id}")

# Enterprise-year data and evaluation runs: created outside the workflow's moves.
IMPORT_UPLOAD = EVENTS.define(
    "import.upload", "data_import", "上传数据文件（导入 #{id}）", "uploaded data (import #{id})"
)
IMPORT_DEMO = EVENTS.define(
    "import.demo", "data_import", "载入演示数据（导入 #{id}）", "loaded the demo county (import #{id})"
)
EVALUATION_CREATE = EVENTS.define(
    "evaluation.start", "evaluation_run", "发起亩均评价 #{id}", "started evaluation run #{id}"
)

# The campaign's targets (policy/campaign_targets.yaml): a figure a person enters (a new one supersedes the previous
# one of the same target, year and town), and a town's share of a county target (目标分解).
TARGET_FIGURE = EVENTS.define(
    "target.figure", "target_figure", "录入目标完成数 #{id}", "entered the figure #{id} of a target"
)
TARGET_SHARE = EVENTS.define(
    "target.share", "target_share", "设定目标分解 #{id}", "set a town's share of a target (#{id})"
)

# What-if: a reform saved for the simulation page (a new version of a lineage, or its first).
REFORM_SAVE = EVENTS.define("reform.save", "reform", "保存政策模拟方案 #{id}", "saved the what-if reform #{id}")

# Money: every ledger row is also an audited event.
LEDGER_ENTRY = EVENTS.define("ledger.entry", "ledger_entry", "资金台账记账 #{id}", "ledger entry #{id}")

# Reads and refusals worth a trace: bulk exports (what, the filter, how many rows) and writes refused
# with 403/404/409/422 (method, route, status, error code, a bounded summary of the problems — never a body).
EXPORT = EVENTS.define("export.download", "export", "导出 {id}", "exported {id}")
REQUEST_REFUSED = EVENTS.define("request.refused", "request", "拒绝请求 {id}", "refused the request {id}")


def sentence(name: str, entity_id: object, lang: str = "zh") -> str:
    """The sentence of a stored event name (the name itself when it is unknown, e.g. from an older release)."""
    return EVENTS[name].describe(entity_id, lang) if name in EVENTS else f"{name} #{entity_id}"


def title(name: str, lang: str = "zh") -> str:
    """The title of a stored event name (the name itself when it is unknown)."""
    return EVENTS[name].title(lang) if name in EVENTS else name
