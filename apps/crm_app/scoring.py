"""Lead scoring: the points of the enabled Lead Scoring Rules (``lead_score``) and a model
learned from the site's decided leads (``conversion_probability`` and ``score_factors``).

Rules are data, never code: a rule on a lead field is one filter ``[field, operator,
value]`` turned into SQL by the query layer (its operators and its coercion of the value
by the field's type, as every list filter); a rule on activities compares a count or the
days since the last contact with an integer. The score of every lead is one SELECT of
``CASE WHEN <rule> THEN points`` over the leads joined with their activity figures
(grouped once, not per lead), and an UPDATE of only the leads whose score moved, in
batches: the nightly job at 100k+ leads. Saving a lead or logging a call or message on it
runs the same SELECT for that lead alone.

The learned model is scikit-learn's logistic regression over one-hot source, territory,
industry and size plus the activity counts; it is stored as JSON coefficients in the
Lead Scoring Model single (no pickle, nothing executable), so predicting needs neither
scikit-learn nor a file: intercept + sum of weights, through the logistic function.

The calibration report must not grade the model on the leads it learned from (a model
remembers them, and looks better than it is): training also predicts each decided lead
with a model fitted on the other folds of a 5-fold cross-validation, and stores that as
the lead's ``holdout_probability``, which the report reads.
"""
import datetime
import json
import math

import lowcode
from lowcode import _
from lowcode.caches import memo_records
from lowcode.context import local
from lowcode.exceptions import InvalidFieldError
from lowcode.fields import registry
from lowcode.meta import get_meta
from lowcode.query import OPERATORS, Query

ACTIVITY_CRITERIA = ("E-mails opened", "Calls connected", "Days since last contact")
NUMBER_OPERATORS = ("=", "!=", ">", ">=", "<", "<=")
BATCH = 500

# A lead's outcome: 1 converted (its opportunity not lost), 0 unqualified or its opportunity
# lost, NULL while undecided. The training labels and the calibration report's actual rates.
OUTCOME = ("CASE WHEN `tabLead`.`status`='Unqualified' OR `opp`.`sales_stage`='Lost' THEN 0 "
           "WHEN `tabLead`.`status`='Converted' THEN 1 END")
OUTCOME_JOIN = "LEFT JOIN `tabOpportunity` `opp` ON `opp`.`name`=`tabLead`.`opportunity`"

# The learned model's inputs and the history it needs before it may speak.
CATEGORIES = ("source", "territory", "industry", "no_of_employees")
COUNTS = {"calls_connected": "Calls connected", "emails_opened": "E-mails opened", "messages": "Messages"}
MIN_DECIDED, MIN_EACH = 50, 10


# -- activity figures per lead, as derived tables joined to tabLead ----------------------------

def _activity_joins(names, lead):
    """(LEFT JOIN sql, values) of the named figures: e-mails opened (campaign members),
    calls connected, messages and the last contact (the latest call or message either way).
    Every lead is grouped once; with ``lead`` only that lead's rows are read, by the index
    on the record they name alone (the other tests are in the aggregate, or a planner
    without statistics may pick the index on the DocType column, which holds every row)."""
    def grouped(table, doctype_col, name_col, aggregate, condition="1=1"):
        where = f"`{name_col}`=%s" if lead else f"`{doctype_col}`='Lead'"
        figure = aggregate.format(f"`{doctype_col}`='Lead' AND {condition}")
        return f"SELECT `{name_col}` AS `ref`, {figure} AS `n` FROM `{table}` WHERE {where} GROUP BY `{name_col}`"
    count = "SUM(CASE WHEN {} THEN 1 ELSE 0 END)"
    tables = {
        "emails_opened": [grouped("tabCampaign Member", "member_doctype", "member_name", count,
                                  "`opened_on` IS NOT NULL")],
        "calls_connected": [grouped("tabCall Log", "reference_doctype", "reference_name", count,
                                    "`outcome`='Connected'")],
        "messages": [grouped("tabCommunication", "reference_doctype", "reference_name", count)],
        "last_contact": [grouped("tabCall Log", "reference_doctype", "reference_name",
                                 "MAX(CASE WHEN {} THEN `started_at` END)"),
                         grouped("tabCommunication", "reference_doctype", "reference_name",
                                 "MAX(CASE WHEN {} THEN `communication_date` END)")],
    }
    sql, values = [], []
    for name in names:
        parts = tables[name]
        query = parts[0] if len(parts) == 1 else \
            f"SELECT `ref`, MAX(`n`) AS `n` FROM ({' UNION ALL '.join(parts)}) `contacts` GROUP BY `ref`"
        sql.append(f"LEFT JOIN ({query}) `{name}` ON `{name}`.`ref`=`tabLead`.`name`")
        values += [lead] * len(parts) if lead else []
    return " ".join(sql), values


CRITERION_FIGURE = {"E-mails opened": "emails_opened", "Calls connected": "calls_connected",
                    "Days since last contact": "last_contact"}


def _day_start(days_ago):
    return (datetime.date.today() - datetime.timedelta(days=days_ago)).isoformat() + " 00:00:00"


def _whole_number(rule):
    try:
        return int(str(rule.get("value") or "").strip())
    except ValueError:
        raise InvalidFieldError(f"{rule['criterion']} is compared with a whole number, not {rule.get('value')!r}",
                                field="value")


def rule_condition(rule):
    """(SQL condition on a lead row, values) for one rule; a bad rule raises an error naming
    its field (the operator or value that does not fit)."""
    criterion, op = rule.get("criterion") or "Lead field", (rule.get("operator") or "=").strip()
    if criterion == "Lead field":
        df = get_meta("Lead").get_field(rule.get("lead_field") or "")
        if df is None or df.fieldtype not in registry or registry[df.fieldtype].column is None:
            raise InvalidFieldError(f"Lead has no field {rule.get('lead_field')!r}", field="lead_field")
        operators = registry[df.fieldtype].operators
        if op.lower() not in OPERATORS or operators and op.lower() not in operators:
            raise InvalidFieldError(f"operator {op!r} does not apply to {df.label} ({df.fieldtype})", field="operator")
        value = rule.get("value")
        if op == "between":  # "from, to" as typed: a range of revenue, of dates
            value = [v.strip() for v in str(value or "").split(",")]
            if len(value) != 2 or not all(value):
                raise InvalidFieldError("'between' takes two values: from, to", field="value")
        query = Query("Lead", "Administrator", "read", ignore_permissions=True)
        try:
            sql = query.condition([df.fieldname, op, value])
        except InvalidFieldError as e:  # field and operator fit: the value does not
            raise InvalidFieldError(e.message, field="value")
        return sql, query.values
    if criterion not in ACTIVITY_CRITERIA:
        raise InvalidFieldError(f"unknown criterion {criterion!r}", field="criterion")
    if op not in NUMBER_OPERATORS:
        raise InvalidFieldError(f"{criterion} takes one of {', '.join(NUMBER_OPERATORS)}, not {op!r}",
                                field="operator")
    n = _whole_number(rule)
    figure = CRITERION_FIGURE[criterion]
    if figure != "last_contact":
        return f"COALESCE(`{figure}`.`n`, 0) {op} %s", [n]
    # Days since the last contact, in whole calendar days, as ranges of the contact's time
    # (the same on both engines, and an index-friendly comparison): d days ago means the
    # contact falls on the day that began d days ago. Never contacted counts as longer
    # than any number of days.
    at, never = "`last_contact`.`n`", "`last_contact`.`n` IS NULL"
    if op in (">", ">="):  # at least m days: before the start of the day m-1 days ago
        m = n + 1 if op == ">" else n
        return f"({never} OR {at} < %s)", [_day_start(m - 1)]
    if op in ("<", "<="):  # at most m days: since the start of the day m days ago
        m = n - 1 if op == "<" else n
        return f"{at} >= %s", [_day_start(m)]
    on_day = f"({at} >= %s AND {at} < %s)"
    if op == "=":
        return on_day, [_day_start(n), _day_start(n - 1)]
    return f"({never} OR NOT {on_day})", [_day_start(n), _day_start(n - 1)]


def _enabled_rules():
    # every lead's save asks: kept for the request or job until a rule is written
    return memo_records("Lead Scoring Rule", "enabled", lambda: tuple(lowcode.get_all(
        "Lead Scoring Rule", filters={"enabled": 1},
        fields=["name", "criterion", "lead_field", "operator", "value", "points"],
        order_by="name asc", limit_page_length=0)))


def recompute_scores(lead=None):
    """Write ``lead_score`` of one lead (``lead``) or of every lead; returns {name: score}
    of the leads whose score changed."""
    rules = _enabled_rules()
    parts, values, figures = [], [], []
    for rule in rules:
        sql, params = rule_condition(rule)
        parts.append(f"CASE WHEN {sql} THEN %s ELSE 0 END")
        values += params + [int(rule["points"] or 0)]
        figure = CRITERION_FIGURE.get(rule["criterion"])
        if figure and figure not in figures:
            figures.append(figure)
    joins, join_values = _activity_joins(figures, lead)
    score = " + ".join(parts) or "0"
    sql = f"SELECT `tabLead`.`name`, `tabLead`.`lead_score`, {score} FROM `tabLead` {joins}"
    values += join_values
    if lead:
        sql += " WHERE `tabLead`.`name`=%s"
        values.append(lead)
    changed = {name: int(new) for name, old, new in local.db.sql(sql, values)
               if old is None or int(old) != int(new)}
    _write(["lead_score"], list(changed.items()))
    return changed


def _write(columns, rows):
    """Set ``columns`` of the leads in ``rows`` ([(name, value, ...)]): one UPDATE per
    batch with a CASE per column (row-by-row UPDATEs are one round trip each, minutes at
    100k leads on a networked database)."""
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        sets, values = [], []
        for i, column in enumerate(columns, 1):
            sets.append(f"`{column}`=CASE `name`" + " WHEN %s THEN %s" * len(batch) + " END")
            values += [v for row in batch for v in (row[0], row[i])]
        values += [row[0] for row in batch]
        local.db.sql(f"UPDATE `tabLead` SET {', '.join(sets)} WHERE `name` IN ({', '.join(['%s'] * len(batch))})",
                     values)


# -- hooks ---------------------------------------------------------------------------------------

def before_lead_insert(doc, method=None):
    """doc_events Lead before_insert: with no enabled rule and no model, a new lead's score
    is 0 and it has no prediction, so it is written so at once and on_lead_update has
    nothing to write (a Data Import of 100k leads saves two statements a lead)."""
    if not _enabled_rules() and load_model() is None:
        doc.lead_score, doc.conversion_probability, doc.score_factors = 0, None, None


def on_lead_update(doc, method=None):
    """doc_events Lead on_update: the saved lead's score and prediction, also on the
    document in hand (the form shows them after the save)."""
    if not _enabled_rules() and load_model() is None:
        # the score is 0 and there is no prediction: the document in hand holds what it
        # wrote (on_update follows the write), so only a difference is written
        if (doc.lead_score, doc.conversion_probability, doc.score_factors) != (0, None, None):
            local.db.sql("UPDATE `tabLead` SET `lead_score`=0, `conversion_probability`=NULL, `score_factors`=NULL "
                         "WHERE `name`=%s", (doc.name,))
            doc.lead_score, doc.conversion_probability, doc.score_factors = 0, None, None
        return
    recompute_scores(doc.name)
    predict(doc.name)
    stored = local.db.sql("SELECT `lead_score`, `conversion_probability`, `score_factors` FROM `tabLead` "
                          "WHERE `name`=%s", (doc.name,))
    if stored:
        doc.lead_score, doc.conversion_probability, doc.score_factors = stored[0]


def on_activity(doc, method=None):
    """doc_events of Call Log, Communication and Campaign Member: rescore the lead the
    activity is about."""
    if doc.doctype == "Campaign Member":
        doctype, name = doc.get("member_doctype"), doc.get("member_name")
    else:
        doctype, name = doc.get("reference_doctype"), doc.get("reference_name")
    if doctype == "Lead" and name:
        recompute_scores(name)
        predict(name)


def nightly():
    """scheduler_events daily: every lead's score, a model trained on today's history, and
    every lead's prediction."""
    recompute_scores()
    learn()


def learn():
    train()
    predict()


@lowcode.whitelist(methods=["POST"])
def train_now(model: str = None):
    """The Lead Scoring Model's "Train now" button: learn in the background now rather than
    tonight, for who may change the model."""
    lowcode.has_permission("Lead Scoring Model", "write", raise_exception=True)
    lowcode.enqueue("crm_app.scoring.learn", queue="long")


# -- the learned model ---------------------------------------------------------------------------

def _feature_rows(lead=None):
    """[(name, {feature: value}, outcome)] of one lead or of every lead."""
    joins, values = _activity_joins(list(COUNTS), lead)
    cats = ", ".join(f"`tabLead`.`{c}`" for c in CATEGORIES)
    counts = ", ".join(f"COALESCE(`{c}`.`n`, 0)" for c in COUNTS)
    sql = f"SELECT `tabLead`.`name`, {cats}, {counts}, {OUTCOME} FROM `tabLead` {joins} {OUTCOME_JOIN}"
    if lead:
        sql += " WHERE `tabLead`.`name`=%s"
        values.append(lead)
    out = []
    for row in local.db.sql(sql, values):
        features = {f"{c}={v}": 1.0 for c, v in zip(CATEGORIES, row[1:1 + len(CATEGORIES)]) if v not in (None, "")}
        for c, n in zip(COUNTS, row[1 + len(CATEGORIES):-1]):
            if n:
                features[c] = math.log1p(int(n))  # diminishing returns of the tenth call
        out.append((row[0], features, row[-1]))
    return out


def train():
    """Fit the model on the decided leads and store it, or store why there is none."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    decided = [(name, f, int(y)) for name, f, y in _feature_rows() if y is not None]
    converted = sum(y for _n, _f, y in decided)
    model = lowcode.get_doc("Lead Scoring Model")
    model.decided_leads, model.converted_leads = len(decided), converted
    model.trained_on = datetime.datetime.now().replace(microsecond=0)
    if len(decided) < MIN_DECIDED or min(converted, len(decided) - converted) < MIN_EACH:
        model.status, model.coefficients = "No model", None
        model.message = not_enough_history(len(decided), converted)
        holdout = []
    else:
        vectorizer = DictVectorizer()  # sparse: a lead has a handful of the site's many categories
        x = vectorizer.fit_transform([f for _n, f, _y in decided])
        y = [y for _n, _f, y in decided]
        fitted = LogisticRegression(max_iter=1000).fit(x, y)
        holdout = [(name, round(100.0 * p, 1)) for (name, _f, _y), p in zip(decided, _out_of_fold(x, y))]
        model.status, model.message = "Trained", None
        model.coefficients = json.dumps({
            "intercept": float(fitted.intercept_[0]),
            "weights": {f: round(float(w), 6) for f, w in zip(vectorizer.feature_names_, fitted.coef_[0])}},
            sort_keys=True)
    model.save(ignore_permissions=True)
    local.db.sql("UPDATE `tabLead` SET `holdout_probability`=NULL WHERE `holdout_probability` IS NOT NULL")
    _write(["holdout_probability"], holdout)
    return model


def _out_of_fold(x, y):
    """Each decided lead's probability from a model fitted without it (stratified 5-fold
    cross-validation, fixed shuffle so a retrain on the same history gives the same figures)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)  # MIN_EACH >= 5 per class
    return cross_val_predict(LogisticRegression(max_iter=1000), x, y, cv=folds, method="predict_proba")[:, 1]


def not_enough_history(decided, converted):
    """What the UI says when there is no model (in the user's language)."""
    return _("No learned model yet: it needs at least {0} decided leads with at least {1} converted and {1} "
             "not; the history has {2} decided leads, {3} converted.", MIN_DECIDED, MIN_EACH, decided, converted)


def no_model_message():
    """None when there is a model; else why not, in the user's language (the UI's word on it)."""
    if load_model() is not None:
        return None
    decided, converted = (lowcode.db.get_single_value("Lead Scoring Model", f)
                          for f in ("decided_leads", "converted_leads"))
    return not_enough_history(int(decided or 0), int(converted or 0))


def load_model():
    """{"intercept", "weights"} of the stored model, or None (read once per request or job
    until the model is written)."""
    stored = memo_records("Lead Scoring Model", "coefficients",
                          lambda: lowcode.db.get_single_value("Lead Scoring Model", "coefficients") or "")
    return json.loads(stored) if stored else None


def _factor_label(feature):
    """"source=Expo" -> "Source: Expo"; "calls_connected" -> "Calls connected"."""
    if feature in COUNTS:
        return COUNTS[feature]
    field, _sep, value = feature.partition("=")
    df = get_meta("Lead").get_field(field)
    return f"{df.label if df else field}: {value}"


def explain(model, features, top=3):
    """(probability in percent, the top factors as lines "+1.20 Source: Expo")."""
    contributions = [(model["weights"][f] * v, f) for f, v in features.items() if f in model["weights"]]
    z = model["intercept"] + sum(c for c, _f in contributions)
    probability = round(100.0 / (1.0 + math.exp(-z)), 1)
    strongest = sorted(contributions, key=lambda c: (-abs(c[0]), c[1]))[:top]
    return probability, "\n".join(f"{c:+.2f} {_factor_label(f)}" for c, f in strongest if round(c, 2)) or None


def predict(lead=None):
    """Write ``conversion_probability`` and ``score_factors`` of one lead or of every lead
    (empty when there is no model)."""
    model = load_model()
    if model is None:
        where, values = ("WHERE `name`=%s", [lead]) if lead else ("WHERE `conversion_probability` IS NOT NULL", [])
        local.db.sql(f"UPDATE `tabLead` SET `conversion_probability`=NULL, `score_factors`=NULL {where}", values)
        return
    where, values = ("WHERE `name`=%s", [lead]) if lead else ("", [])
    stored = {name: (None if p is None else float(p), f) for name, p, f in local.db.sql(
        f"SELECT `name`, `conversion_probability`, `score_factors` FROM `tabLead` {where}", values)}
    rows = [(name,) + explain(model, features) for name, features, _y in _feature_rows(lead)]
    _write(["conversion_probability", "score_factors"], [r for r in rows if stored.get(r[0]) != r[1:]])


# -- calibration ---------------------------------------------------------------------------------

def calibration(leads):
    """Predicted vs actual conversion by decile of the prediction, lowest first, over the
    decided leads among ``leads`` ([(name, probability)]): [{decile, leads,
    mean_predicted, actual_rate}] in percent."""
    names = [n for n, p in leads if p is not None]
    outcomes = {}
    for start in range(0, len(names), BATCH):
        chunk = names[start:start + BATCH]
        marks = ", ".join(["%s"] * len(chunk))
        outcomes.update(local.db.sql(f"SELECT `tabLead`.`name`, {OUTCOME} FROM `tabLead` {OUTCOME_JOIN} "
                                     f"WHERE `tabLead`.`name` IN ({marks})", chunk))
    decided = sorted((float(p), n) for n, p in leads if p is not None and outcomes.get(n) is not None)
    deciles = {}
    for i, (p, n) in enumerate(decided):
        deciles.setdefault(i * 10 // len(decided) + 1, []).append((p, int(outcomes[n])))
    return [{"decile": d, "leads": len(rows), "mean_predicted": round(sum(p for p, _y in rows) / len(rows), 1),
             "actual_rate": round(100.0 * sum(y for _p, y in rows) / len(rows), 1)}
            for d, rows in sorted(deciles.items())]
