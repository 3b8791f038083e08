"""Documents for people to file and send: the campaign's reports as PDF (WeasyPrint, CJK fonts embedded) with
server-drawn SVG charts (matplotlib). Adapters take plain data: the services assemble the figures."""
