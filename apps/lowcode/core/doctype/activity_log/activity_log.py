"""Activity Log: an audit record (lowcode/audit.py writes it); never changed or deleted."""
from lowcode.audit import AuditRecord


class ActivityLog(AuditRecord):
    pass
