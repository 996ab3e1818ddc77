"""Operations jobs: the scheduler, mail delivery, improvement reports, backup, checkpoint pruning, escalation export."""
