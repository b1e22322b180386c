"""Survey: a questionnaire in English, Persian and Hebrew, built on the desk form. A
Choice question's options are one a line; the Persian and Hebrew lists, when given,
must have as many lines as the English one, since an answer is stored as the English
option at the same position (so results group alike whatever language answered)."""
from django.utils.translation import gettext

from lowcode.document import Document
from lowcode.exceptions import ValidationError


def _lines(text):
    return [line for line in (text or "").splitlines() if line.strip()]


class Survey(Document):
    def validate(self):
        for q in self.questions or []:
            if q.question_type != "Choice":
                continue
            english = _lines(q.options)
            if len(english) < 2:
                raise ValidationError(gettext("Question %(n)s: a choice needs at least two options, one a line")
                                      % {"n": q.idx}, doctype="Survey Question", field="options")
            for lang in ("fa", "he"):
                other = _lines(q.get(f"options_{lang}"))
                if other and len(other) != len(english):
                    raise ValidationError(
                        gettext("Question %(n)s: give as many options in each language as in English (%(count)s)")
                        % {"n": q.idx, "count": len(english)}, doctype="Survey Question", field=f"options_{lang}")
