"""Help Category: shared by the articles of every language. Its name is a path segment of
the public page (/kb/category/<name>), so it holds no slash."""
from django.utils.translation import gettext

from lowcode.document import Document
from lowcode.exceptions import ValidationError


class HelpCategory(Document):
    def validate(self):
        if "/" in (self.category_name or ""):
            raise ValidationError(gettext("A category name cannot contain a slash"), doctype="Help Category",
                                  field="category_name")
        if self.parent_category and self.parent_category == self.name:
            raise ValidationError(gettext("A category cannot be its own parent"), doctype="Help Category",
                                  field="parent_category")
