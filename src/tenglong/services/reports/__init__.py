"""The campaign's targets and reports (A.2, A.3, A.4.2): progress against its targets (``progress.py``), the figures
people enter and the towns' shares (``figures.py``), how a figure reads (``shown.py``), the progress workbook
(``export.py``), the monthly bulletin's figures (``bulletin.py``) and its PDF and workbook (``documents.py``)."""
