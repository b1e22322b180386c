"""Campaign sending: segments become member lists, messages go out in throttled
batches, and what happens to each member (sent, delivered, opened, clicked,
unsubscribed, replied, bounced) is recorded on its Campaign Member row.

The shapes follow Frappe's newsletter: a Segment plays the Email Group (kept as a saved
query, so its members are the records that match when the message goes out), a
Campaign Message the Newsletter, a Campaign Member the Email Group Member plus its
tracking, and unsubscribing records Frappe's Email Unsubscribe.

- ``schedule_message`` (the form's "Schedule" button) remembers who scheduled: the
  members are the records *that user* may read (get_list with their permissions).
- ``run`` (the scheduler, every minute) starts due messages (members resolved once,
  consent honoured, A/B split), sends each message's next batch within its throttle,
  picks A/B winners, marks finished messages Sent and copies delivery states back.
  Each member is claimed by a conditional UPDATE in the same transaction that queues
  its e-mail or SMS, so re-running the job, or two workers at once, never sends twice.
- Tracking links and the unsubscribe page are in ``campaign_pages.py``; their tokens
  are signed here.
"""
import datetime
import html
import logging
import random
import re

from django.core import signing

import lowcode
from lowcode.apps import get_attr, get_hooks
from lowcode.channels import stored_secrets
from lowcode.channels.bounces import invalid_emails
from lowcode.context import local
from lowcode.desk.doctype.number_card.number_card import parse_filters_json
from lowcode.exceptions import LowcodeError, ValidationError

MEMBER_DOCTYPES = ("Lead", "Contact", "Customer")
log = logging.getLogger("crm_app.campaigns")

SEND_CAP = 500               # members one message sends per run at most, whatever its throttle
FIGURES = {"sent": "sent_on", "delivered": "delivered_on", "opened": "opened_on", "clicked": "clicked_on",
           "unsubscribed": "unsubscribed_on", "replied": "replied_on", "bounced": "bounced_on"}
SALT = "crm_app.campaigns"
# What unsubscribing sets on the member's record (Customer has no consent flag: its
# address is refused through Email Unsubscribe alone).
OPT_OUT_FLAGS = {"Lead": {"consent_email": 0}, "Contact": {"consent_email": 0, "unsubscribed": 1}}
TRACK_DAYS = 30              # how long after sending delivery states and figures are still copied


def _now():
    return datetime.datetime.now()


def _fmt(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# -- segments -------------------------------------------------------------------------------------

def segment_filters(doctype, filters_json, product=None, user=None):
    """The list filters of a segment, plus "bought ``product``": parties with a quotation or
    an opportunity for it (as ``user`` may read them). None when no record can match."""
    filters = list(parse_filters_json(filters_json) or [])
    if isinstance(filters, dict):
        filters = [[doctype, k, "=", v] for k, v in filters.items()]
    if not product:
        return filters
    parties = {"Lead": set(), "Customer": set()}
    for source, party_type in (("Quotation", "quotation_to"), ("Opportunity", "opportunity_from")):
        rows = lowcode.get_list(source, fields=[party_type, "party_name"], user=user, limit_page_length=0,
                                filters=[[f"{source} Item", "product", "=", product]], distinct=True)
        for r in rows:
            parties.setdefault(r[party_type], set()).add(r["party_name"])
    if doctype == "Contact":
        if not parties["Customer"]:
            return None
        return filters + [["Dynamic Link", "link_doctype", "=", "Customer"],
                          ["Dynamic Link", "link_name", "in", sorted(parties["Customer"])]]
    if not parties.get(doctype):
        return None
    return filters + [["name", "in", sorted(parties[doctype])]]


def matching_records(segment, user=None):
    """[{name, email_id, mobile_no}] of the segment's records that ``user`` may read."""
    filters = segment_filters(segment.segment_doctype, segment.filters_json, segment.product, user=user)
    if filters is None:
        return []
    return lowcode.get_list(segment.segment_doctype, fields=["name", "email_id", "mobile_no"], filters=filters,
                            user=user, limit_page_length=0, order_by="creation asc", distinct=True)


@lowcode.whitelist()
def preview_count(segment: str):
    """How many records the segment holds for the current user (before consent)."""
    doc = lowcode.get_doc("Segment", segment)
    doc.check_permission("read")
    return len(matching_records(doc))


# -- consent ---------------------------------------------------------------------------------------

def refused_emails(emails, campaign=None):
    """The addresses among ``emails`` that must not get bulk mail: any Lead or Contact with
    the address refused e-mail (one refusal wins, as for SMS), an Email Unsubscribe for all
    mail or for this campaign, and addresses that bounced for good (Email Bounce)."""
    emails = sorted({(e or "").strip().lower() for e in emails if e})
    if not emails:
        return set()
    db, marks = local.db, ", ".join(["%s"] * len(emails))
    refused = set()
    refused |= {r[0] for r in db.sql(f"SELECT LOWER(`email_id`) FROM `tabLead` WHERE LOWER(`email_id`) IN ({marks}) "
                                      "AND COALESCE(`consent_email`, 0)=0", tuple(emails))}
    refused |= {r[0] for r in db.sql(f"SELECT LOWER(`email_id`) FROM `tabContact` WHERE LOWER(`email_id`) IN ({marks}) "
                                      "AND (COALESCE(`consent_email`, 0)=0 OR COALESCE(`unsubscribed`, 0)=1)",
                                      tuple(emails))}
    refused |= {r[0] for r in db.sql(
        f"SELECT LOWER(`email`) FROM `tabEmail Unsubscribe` WHERE LOWER(`email`) IN ({marks}) AND "
        "(COALESCE(`global_unsubscribe`, 0)=1 OR (`reference_doctype`='Campaign' AND `reference_name`=%s))",
        (*emails, campaign or ""))}
    refused |= invalid_emails(emails)
    return refused


def refused_numbers(numbers):
    """E.164 numbers whose records refused SMS: the apps' ``sms_opt_out`` hooks, as send_sms asks them."""
    refused = set()
    for path in get_hooks("sms_opt_out", []):
        refused |= set(get_attr(path)(numbers) or ())
    return refused


# -- scheduling -----------------------------------------------------------------------------------

@lowcode.whitelist(methods=["POST"])
def schedule_message(message: str):
    """The "Schedule" button: a Draft message goes out at its time, to the members the
    current user may read."""
    doc = lowcode.get_doc("Campaign Message", message)
    doc.check_permission("write")
    if doc.status != "Draft":
        raise ValidationError(f"status: only a Draft message can be scheduled (it is {doc.status})", field="status")
    doc.validate_ready()
    doc.status, doc.scheduled_by = "Scheduled", local.user
    doc.flags.campaign_action = True
    doc.save()
    return {"status": doc.status}


@lowcode.whitelist(methods=["POST"])
def cancel_message(message: str):
    """Stop sending: members not yet sent stay unsent."""
    doc = lowcode.get_doc("Campaign Message", message)
    doc.check_permission("write")
    if doc.status in ("Sent", "Cancelled"):
        raise ValidationError(f"status: the message is already {doc.status}", field="status")
    doc.status = "Cancelled"
    doc.flags.campaign_action = True
    doc.save()
    return {"status": doc.status}


# -- the scheduler's job --------------------------------------------------------------------------

def run(now=None):
    """Every minute: start due messages, send batches, pick A/B winners, finish, sync states."""
    now = now or _now()
    for (name,) in local.db.sql("SELECT `name` FROM `tabCampaign Message` WHERE `status`='Scheduled' AND "
                                "(`schedule_send` IS NULL OR `schedule_send`<=%s) ORDER BY `creation`", (_fmt(now),)):
        _isolated(name, start, name)
    for (name,) in local.db.sql("SELECT `name` FROM `tabCampaign Message` WHERE `status` IN ('Testing', 'Sending') "
                                "ORDER BY `creation`"):
        _isolated(name, _advance, name, now)
    sync_states(now)


def _advance(name, now):
    send_batch(name, now)
    pick_winner(name, now)
    _finish(name)


def _isolated(name, fn, *args):
    """One message's failure (a segment whose filters no longer apply, say) is logged and
    leaves the others going; its own writes of this run are undone."""
    # A job starts outside a transaction, and SQLite's SAVEPOINT would open one behind
    # the connection's back: the unit of work is begun first.
    local.db.begin()
    local.db.savepoint("campaign_message")
    try:
        fn(*args)
    except LowcodeError as e:
        local.db.rollback_to_savepoint("campaign_message")
        log.warning("campaign message %s: %s", name, e)
    local.db.release_savepoint("campaign_message")


def _set_message(name, **values):
    # The job's bookkeeping, not an edit: a plain UPDATE, so someone viewing the form
    # never meets a stale-write error and no version is written per batch.
    assignments = ", ".join(f"`{k}`=%s" for k in values)
    local.db.sql(f"UPDATE `tabCampaign Message` SET {assignments} WHERE `name`=%s", (*values.values(), name))


def start(name):
    """Resolve the members once (as the user who scheduled), honour consent, split A/B."""
    claimed = local.db.sql_cursor("UPDATE `tabCampaign Message` SET `status`='Sending' WHERE `name`=%s "
                                  "AND `status`='Scheduled'", (name,)).rowcount
    if not claimed:
        return
    message = lowcode.get_doc("Campaign Message", name)
    segment = lowcode.get_doc("Segment", message.segment)
    records = matching_records(segment, user=message.scheduled_by)
    email = message.channel == "Email"
    if email:
        addresses = {r["name"]: (r.get("email_id") or "").strip() for r in records}
        refused = refused_emails(addresses.values(), message.campaign)
    else:
        from lowcode.channels.sms import normalise_number
        addresses = {r["name"]: normalise_number(r.get("mobile_no")) if r.get("mobile_no") else None for r in records}
        refused = refused_numbers([a for a in addresses.values() if a])
    sendable, rows = [], []
    seen = set()
    for r in records:
        address = addresses[r["name"]]
        key = address.lower() if email and address else address
        reason = None
        if not address:
            reason = "no e-mail address" if email else "no valid mobile number"
        elif key in refused:
            reason = "opted out"
        elif key in seen:
            reason = "address already in this message"
        seen.add(key)
        row = {"member_doctype": segment.segment_doctype, "member_name": r["name"],
               "email": address if email else None, "mobile": None if email else address}
        if reason:
            rows.append(dict(row, status="Skipped", error=reason))
        else:
            sendable.append(row)
    testing = email and message.subject_b and int(message.ab_test_percent or 0) > 0 and len(sendable) >= 2
    if testing:
        # A random but repeatable test group; A and B alternate in it, so they differ by at most one.
        random.Random(name).shuffle(sendable)
        size = min(len(sendable), max(2, round(len(sendable) * int(message.ab_test_percent) / 100)))
        for i, row in enumerate(sendable):
            row.update(status="Queued", variant="AB"[i % 2]) if i < size else row.update(status="Held")
    else:
        for row in sendable:
            row.update(status="Queued", variant="")
    for row in rows + sendable:
        lowcode.get_doc(dict(row, doctype="Campaign Member", campaign_message=name,
                             campaign=message.campaign)).insert(ignore_permissions=True)
    _set_message(name, status="Testing" if testing else "Sending", total_members=len(rows) + len(sendable))


def send_batch(name, now=None):
    """Send the next members within the throttle (per minute); returns how many went."""
    now = now or _now()
    message = lowcode.get_doc("Campaign Message", name)
    limit = int(message.throttle_per_minute or 0) or SEND_CAP
    recent = local.db.sql("SELECT COUNT(*) FROM `tabCampaign Member` WHERE `campaign_message`=%s AND "
                          "`sent_on`>%s", (name, _fmt(now - datetime.timedelta(minutes=1))))[0][0]
    room = min(SEND_CAP, limit - int(recent or 0))
    if room <= 0:
        return 0
    due = local.db.sql("SELECT `name` FROM `tabCampaign Member` WHERE `campaign_message`=%s AND `status`='Queued' "
                       "ORDER BY `creation`, `name` LIMIT %s", (name, room), pluck=True)
    sent = 0
    previous = local.user
    lowcode.set_user(message.scheduled_by or "Administrator")
    try:
        for member in due:
            sent += _send_one(message, member, now)
    finally:
        lowcode.set_user(previous)
    return sent


def _send_one(message, member_name, now):
    # The claim and the queued e-mail/SMS are one transaction: either both are kept or
    # neither, and a second run finds the member no longer Queued.
    claimed = local.db.sql_cursor("UPDATE `tabCampaign Member` SET `status`='Sent', `sent_on`=%s WHERE `name`=%s "
                                  "AND `status`='Queued'", (_fmt(now), member_name)).rowcount
    if not claimed:
        return 0
    member = lowcode.get_doc("Campaign Member", member_name)
    # A refused send (bad address or template, access gone) leaves nothing half-written.
    local.db.savepoint("campaign_member")
    try:
        record = lowcode.get_doc(member.member_doctype, member.member_name)
        record.check_permission("read")  # as the user who scheduled: access may have ended since
        if message.channel == "Email":
            queue = _send_email(message, member, record)
            changes = {"email_queue": queue.name, "message_id": queue.message_id}
        else:
            changes = _send_sms(message, member, record)
    except LowcodeError as e:
        local.db.rollback_to_savepoint("campaign_member")
        changes = {"status": "Failed", "sent_on": None, "error": str(e)[:500]}
    local.db.release_savepoint("campaign_member")
    assignments = ", ".join(f"`{k}`=%s" for k in changes)
    local.db.sql(f"UPDATE `tabCampaign Member` SET {assignments} WHERE `name`=%s", (*changes.values(), member_name))
    return 0 if changes.get("status") in ("Failed", "Skipped") else 1


def _send_sms(message, member, record):
    from lowcode.channels.sms import send_sms
    from lowcode.printing import render, template_context
    text = render(message.message, template_context(record), autoescape=False)
    [log_name] = send_sms([member.mobile], text, reference=(member.member_doctype, member.member_name))
    if local.db.get_value("SMS Log", log_name, "status") == "Skipped":
        return {"status": "Skipped", "sent_on": None, "sms_log": log_name, "error": "opted out"}
    return {"sms_log": log_name}


def _send_email(message, member, record):
    from lowcode.channels.email import sendmail
    from lowcode.printing import render_email_parts
    subject = message.subject_b if member.variant == "B" else message.subject
    subject, body = render_email_parts(subject, message.message, record)
    unsubscribe = tracking_url("unsubscribe", member.name)
    body = track_links(body, member.name)
    body += (f'<p style="font-size:small"><a href="{html.escape(unsubscribe)}">{html.escape(lowcode._("Unsubscribe"))}'
             f'</a></p><img src="{html.escape(tracking_url("open", member.name))}" width="1" height="1" alt="">')
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return sendmail([member.email], subject=subject, message=body, reference_doctype=member.member_doctype,
                    reference_name=member.member_name, email_account=message.email_account or None, headers=headers)


def pick_winner(name, now=None):
    """After the test group has been sent and the wait is over: the subject with the higher
    open rate (a tie goes to A) is sent to everyone held back."""
    now = now or _now()
    message = lowcode.get_doc("Campaign Message", name)
    if message.status != "Testing":
        return None
    waiting = local.db.sql("SELECT COUNT(*) FROM `tabCampaign Member` WHERE `campaign_message`=%s AND "
                           "`status`='Queued'", (name,))[0][0]
    if waiting:
        return None
    if not message.ab_test_sent_on:
        _set_message(name, ab_test_sent_on=_fmt(now))
        message.ab_test_sent_on = _fmt(now)
    started = datetime.datetime.fromisoformat(str(message.ab_test_sent_on)[:19])
    rates = ab_rates(name)
    _set_message(name, open_rate_a=rates["A"], open_rate_b=rates["B"])
    if now < started + datetime.timedelta(hours=float(message.ab_wait_hours or 0)):
        return None
    winner = "B" if rates["B"] > rates["A"] else "A"
    local.db.sql("UPDATE `tabCampaign Member` SET `status`='Queued', `variant`=%s WHERE `campaign_message`=%s "
                 "AND `status`='Held'", (winner, name))
    _set_message(name, winner=winner, status="Sending")
    return winner


def ab_rates(name):
    """{variant: open rate in percent} over the test group (members sent before a winner)."""
    out = {}
    for variant in ("A", "B"):
        sent, opened = local.db.sql(
            "SELECT COUNT(*), COUNT(`opened_on`) FROM `tabCampaign Member` WHERE `campaign_message`=%s AND "
            "`variant`=%s AND `sent_on` IS NOT NULL AND `status`='Sent'", (name, variant))[0]
        out[variant] = round(100.0 * opened / sent, 1) if sent else 0.0
    return out


def _finish(name):
    status = local.db.get_value("Campaign Message", name, "status")
    if status != "Sending":
        return
    left = local.db.sql("SELECT COUNT(*) FROM `tabCampaign Member` WHERE `campaign_message`=%s AND "
                        "`status` IN ('Queued', 'Held')", (name,))[0][0]
    if not left:
        _set_message(name, status="Sent")


def sync_states(now=None):
    """Delivery states from the channels back to the members (an e-mail the SMTP server
    took, an SMS the gateway's delivery report confirmed), then the figures of each recent
    message and its campaign. Opens, clicks and reports keep coming for a while after a
    send; TRACK_DAYS bounds the rows this minute job looks at."""
    db = local.db
    since = _fmt((now or _now()) - datetime.timedelta(days=TRACK_DAYS))
    db.sql("UPDATE `tabCampaign Member` SET `delivered_on`=(SELECT q.`modified` FROM `tabEmail Queue` q WHERE "
           "q.`name`=`tabCampaign Member`.`email_queue` AND q.`status`='Sent') WHERE `sent_on`>=%s AND "
           "`delivered_on` IS NULL AND `email_queue` IS NOT NULL AND `status`='Sent'", (since,))
    db.sql("UPDATE `tabCampaign Member` SET `delivered_on`=(SELECT l.`modified` FROM `tabSMS Log` l WHERE "
           "l.`name`=`tabCampaign Member`.`sms_log` AND l.`status`='Delivered') WHERE `sent_on`>=%s AND "
           "`delivered_on` IS NULL AND `sms_log` IS NOT NULL AND `status`='Sent'", (since,))
    recent = db.sql("SELECT `name`, `campaign` FROM `tabCampaign Message` WHERE `status` IN ('Testing', 'Sending') "
                    "OR `name` IN (SELECT `campaign_message` FROM `tabCampaign Member` WHERE `sent_on`>=%s)", (since,))
    for name, _campaign in recent:
        update_figures(name)
    for campaign in sorted({c for _name, c in recent}):
        figures = campaign_figures(campaign)
        # Bookkeeping like the message's figures: no version, `modified` left alone.
        db.sql("UPDATE `tabCampaign` SET `messages_sent`=%s, `messages_delivered`=%s, `messages_opened`=%s, "
               "`messages_clicked`=%s, `messages_unsubscribed`=%s, `messages_replied`=%s WHERE `name`=%s",
               (figures["sent"], figures["delivered"], figures["opened"], figures["clicked"],
                figures["unsubscribed"], figures["replied"], campaign))


def update_figures(name):
    columns = ", ".join(f"COUNT(`{stamp}`)" for stamp in FIGURES.values())
    row = local.db.sql(f"SELECT COUNT(*), {columns} FROM `tabCampaign Member` WHERE `campaign_message`=%s",
                       (name,))[0]
    _set_message(name, total_members=row[0], **dict(zip(FIGURES, row[1:])))


def campaign_figures(campaign):
    """{sent, delivered, opened, clicked, unsubscribed, replied, bounced} over every
    message of the campaign, counted from the members."""
    columns = ", ".join(f"COUNT(`{stamp}`)" for stamp in FIGURES.values())
    row = local.db.sql(f"SELECT {columns} FROM `tabCampaign Member` WHERE `campaign`=%s", (campaign,))[0]
    return dict(zip(FIGURES, (int(v or 0) for v in row)))


@lowcode.whitelist()
def campaign_results(campaign: str, from_date: str = None, to_date: str = None):
    """A campaign's reach (members' figures) beside its row of the campaign ROI report
    (cost, leads, opportunities, wins, revenue, ROI, as the user may see them)."""
    from crm_app import reports
    doc = lowcode.get_doc("Campaign", campaign)
    doc.check_permission("read")
    roi = next((r for r in reports.campaign_roi(from_date, to_date) if r["campaign"] == campaign), None)
    return {"reach": campaign_figures(campaign), "roi": roi}


# -- tracking tokens ------------------------------------------------------------------------------

def _key(create=False):
    """This site's signing key for tracking links, kept with the channel secrets; made by
    the sending job (a GET that checks a token only reads it)."""
    key = stored_secrets.get_secret("Campaign", "*tracking*", "signing_key")
    if not key and create:
        import secrets
        key = secrets.token_urlsafe(32)
        stored_secrets.store_secret("Campaign", "*tracking*", "signing_key", key)
    return key


def sign(payload):
    return signing.dumps(payload, key=_key(create=True), salt=SALT, compress=False)


def unsign(token):
    """The payload of a token this site signed, else None (altered, forged, or no key yet)."""
    key = _key()
    if not key or not token:
        return None
    try:
        value = signing.loads(token, key=key, salt=SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) else None


def base_url():
    return (local.conf.get("host_name") or f"https://{local.site}").rstrip("/")


def tracking_url(kind, member, target=None):
    payload = {"m": member, "k": kind}
    if target is not None:
        payload["u"] = target  # signed with the member: the click page redirects only there
    return f"{base_url()}/campaign/{kind}/{sign(payload)}"


HREF = re.compile(r'href="(https?://[^"]+)"', re.IGNORECASE)


def track_links(body, member):
    """Every http(s) link of the rendered body through the signed click redirect."""
    def replace(match):
        target = html.unescape(match.group(1))
        return f'href="{html.escape(tracking_url("click", member, target))}"'
    return HREF.sub(replace, body)


# -- events from outside: opens, clicks, unsubscribes, replies, bounces ---------------------------

def record_open(member):
    local.db.sql("UPDATE `tabCampaign Member` SET `opened_on`=COALESCE(`opened_on`, %s), "
                 "`open_count`=COALESCE(`open_count`, 0)+1 WHERE `name`=%s", (_fmt(_now()), member))


def record_click(member):
    stamp = _fmt(_now())
    # A click shows the message was opened, even when the pixel was blocked.
    local.db.sql("UPDATE `tabCampaign Member` SET `clicked_on`=COALESCE(`clicked_on`, %s), "
                 "`opened_on`=COALESCE(`opened_on`, %s), `click_count`=COALESCE(`click_count`, 0)+1 "
                 "WHERE `name`=%s", (stamp, stamp, member))


def unsubscribe(member_name):
    """Frappe's Email Unsubscribe for the address (all mail: the member's opt-out flag is
    one flag) and the opt-out flag on the member's record. Idempotent."""
    rows = local.db.sql("SELECT `email`, `campaign`, `member_doctype`, `member_name`, `unsubscribed_on` "
                        "FROM `tabCampaign Member` WHERE `name`=%s", (member_name,), as_dict=True)
    if not rows:
        return False
    row = rows[0]
    if row["email"] and not local.db.sql("SELECT 1 FROM `tabEmail Unsubscribe` WHERE `email`=%s AND "
                                         "`global_unsubscribe`=1", (row["email"],)):
        lowcode.get_doc({"doctype": "Email Unsubscribe", "email": row["email"], "global_unsubscribe": 1,
                         "reference_doctype": "Campaign", "reference_name": row["campaign"]}
                        ).insert(ignore_permissions=True)
    flags = OPT_OUT_FLAGS.get(row["member_doctype"])
    if flags and local.db.exists(row["member_doctype"], row["member_name"]):
        record = lowcode.get_doc(row["member_doctype"], row["member_name"])
        if any(int(record.get(k) or 0) != v for k, v in flags.items()):
            record.update(flags)
            record.flags.ignore_links = True
            record.save(ignore_permissions=True)
    local.db.sql("UPDATE `tabCampaign Member` SET `unsubscribed_on`=COALESCE(`unsubscribed_on`, %s) "
                 "WHERE `name`=%s", (_fmt(_now()), member_name))
    return True


def on_bounce(doc, method=None):
    """doc_events (Email Bounce, on_update): a permanent bounce marks the campaign member."""
    if (doc.get("last_status") or "").startswith("5"):
        mark_bounced(doc.get("email_address") or doc.name)


def mark_bounced(email_address):
    """The latest member sent to this address bounced."""
    rows = local.db.sql("SELECT `name` FROM `tabCampaign Member` WHERE LOWER(`email`)=%s AND `status`='Sent' "
                        "ORDER BY `sent_on` DESC LIMIT 1", ((email_address or "").strip().lower(),), pluck=True)
    for name in rows:
        local.db.sql("UPDATE `tabCampaign Member` SET `bounced_on`=COALESCE(`bounced_on`, %s) WHERE `name`=%s",
                     (_fmt(_now()), name))
    return bool(rows)


def record_reply(doc, method=None):
    """doc_events (Communication, after_insert): a received message answering a campaign
    e-mail marks its member replied. Uses ``in_reply_to`` when the Communication has it
    (the Message-ID it answers, or the name of the sent Communication, as in Frappe)."""
    if doc.get("sent_or_received") != "Received":
        return
    parent = (doc.get("in_reply_to") or "").strip()
    if not parent:
        return
    ids = {parent, parent.strip("<>"), f"<{parent.strip('<>')}>"}
    marks = ", ".join(["%s"] * len(ids))
    members = local.db.sql(f"SELECT `name` FROM `tabCampaign Member` WHERE `message_id` IN ({marks})", tuple(ids),
                           pluck=True)
    if not members:
        members = local.db.sql("SELECT m.`name` FROM `tabCampaign Member` m JOIN `tabEmail Queue` q ON "
                               "q.`name`=m.`email_queue` WHERE q.`communication`=%s", (parent,), pluck=True)
    for name in members:
        local.db.sql("UPDATE `tabCampaign Member` SET `replied_on`=COALESCE(`replied_on`, %s) WHERE `name`=%s",
                     (_fmt(_now()), name))
