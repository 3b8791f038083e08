"""Enterprise-year tables as XLSX and CSV: column specs, reader, writer, template."""
