-- Who resolved an escalation, as a column rather than inside the context JSON.
ALTER TABLE escalation ADD COLUMN resolved_by text;
