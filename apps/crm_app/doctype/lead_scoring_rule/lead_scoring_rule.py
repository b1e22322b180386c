"""Lead Scoring Rule: one criterion and its points (crm_app/scoring.py scores with them)."""
import lowcode
from lowcode.document import Document


class LeadScoringRule(Document):
    def validate(self):
        from crm_app.scoring import rule_condition
        if self.criterion != "Lead field":
            self.lead_field = None
        rule_condition(self.as_dict())  # a field, operator or value that does not fit is refused here

    def on_update(self):
        self._rescore()

    def on_trash(self):
        self._rescore()

    def _rescore(self):
        # Every lead's score under the new rules, in the background after the commit.
        lowcode.enqueue("crm_app.scoring.recompute_scores", queue="long")
