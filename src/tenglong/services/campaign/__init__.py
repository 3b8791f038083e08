"""The campaign registers of A.3 and A.4.2 (清单: 高耗低效, "两高", "四无"/"低散乱", 关键核心技术, "零增地", 留驻优质;
企业承诺事项 and 严重失信名单).

* ``common.py``: the kinds (``registers/kinds.py``), who may act on an entry, an entry as the services show it;
* ``entries.py``: add an entry (a person, with a reason), move it (its kind's workflow: role, scope, fields,
  attachments, conditions), every move an audited event;
* ``views.py``: the filtered list (town, category, state, overdue, responsible unit), an entry with its history
  (the audit log) and next moves;
* ``seeding.py``: proposals from a published evaluation and from the projects — a person confirms each;
* ``commitments.py``: commitments checked against the data, the default's clawback in the ledger and the
  严重失信名单 (A.4.2);
* ``follow_up.py``: what a publish, an import, a new project or an approval brings to the registers;
* ``export.py``: the JSON and XLSX export (``tenglong registers export``);
* ``todo.py``: the 待办 of the registers; ``demo.py``: the registers of the demo county.
"""

from . import commitments, follow_up  # noqa: F401  (register their facts and moves with entries.py)
