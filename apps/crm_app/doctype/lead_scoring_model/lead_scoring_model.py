"""Lead Scoring Model: the learned model of crm_app/scoring.py, trained nightly."""
from lowcode.document import Document


class LeadScoringModel(Document):
    pass
