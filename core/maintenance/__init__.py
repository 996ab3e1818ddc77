"""Operations on Doxa's own database: checkpoint retention, backups, durations for their options."""
