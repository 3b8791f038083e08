"""The policy as data: clauses, parameters, reference tables and cases."""
