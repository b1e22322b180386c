"""Lead Scoring Model: the learned model of crm_app/scoring.py, trained nightly."""
import json
import numbers

from lowcode.document import Document
from lowcode.exceptions import ValidationError


class LeadScoringModel(Document):
    def validate(self):
        # Every lead's save predicts with these numbers: only the shape scoring.train writes.
        if not self.coefficients:
            self.status = "No model"
            return
        try:
            model = json.loads(self.coefficients)
        except ValueError:
            model = None
        if not (isinstance(model, dict) and _number(model.get("intercept")) and isinstance(model.get("weights"), dict)
                and all(isinstance(k, str) and _number(v) for k, v in model["weights"].items())):
            raise ValidationError('Coefficients must be {"intercept": number, "weights": {feature: number}}',
                                  field="coefficients")


def _number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
