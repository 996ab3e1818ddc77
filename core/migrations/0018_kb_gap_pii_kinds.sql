-- Knowledge gaps are read later by people (`doxa improve report`) and by the FAQ miner: their texts are
-- stored redacted, with the kinds of personal data that were found (never the values) kept here.
ALTER TABLE kb_gap ADD COLUMN pii_kinds text[] NOT NULL DEFAULT '{}';
