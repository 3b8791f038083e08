"""The campaign registers of A.3 (清单: 高耗低效, "两高", "四无"/"低散乱", 关键核心技术, "零增地", 留驻优质).

* ``common.py``: the kinds (``registers/kinds.py``), who may act on an entry, an entry as the services show it;
* ``entries.py``: add an entry (a person, with a reason), move it (its kind's workflow: role, scope, fields,
  attachments, conditions), every move an audited event;
* ``views.py``: the filtered list (town, category, state, overdue, responsible unit), an entry with its history
  (the audit log) and next moves;
* ``seeding.py``: proposals from a published evaluation and from the projects — a person confirms each;
* ``export.py``: the JSON and XLSX export (``tenglong registers export``);
* ``todo.py``: the 待办 of the registers; ``demo.py``: the registers of the demo county.
"""
