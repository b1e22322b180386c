"""Asterisk's Manager Interface (AMI): the call events of an Asterisk PBX (Issabel,
FreePBX) through panoramisk, and the Originate of click-to-call.

``listen(site)`` is a realtime service (hooks.py ``realtime_services``): an asyncio task
that stays connected while Telephony Settings enable AMI, reconnects with back-off when
the PBX goes away (each change written to the settings' status fields and logged), and
looks at the settings again every ``CONFIG_POLL`` seconds: AMI switched on starts it,
switched off or pointed elsewhere closes the connection (and makes a new one).

A call is known by its Linkedid (the Uniqueid of its first channel, shared by every
channel of the call). From Asterisk's events:

- Newchannel of the first channel: the caller's number and the dialled number;
- DialBegin, or Newstate "Ringing" of another channel of the call: an agent's phone
  rings (the extension from the channel name, PJSIP/101-0000002a) -> "ringing";
- BridgeEnter of an agent's channel: -> "answered";
- VarSet of the recording variable (MIXMONITOR_FILENAME by default): the recording;
- Hangup of the first channel, with its cause: -> "ended".

A call whose first channel is an agent's phone (they dialled out, or click-to-call rang
them first) is Outgoing, to the number they dialled (``apply``).

Events are turned into calls here, in the event loop, and applied one after another by
``calls.handle_call_event`` in a worker thread (the engine is synchronous), each in its
own site context and transaction, so the screen pop leaves after that commit."""
import asyncio
import datetime
import logging
import os
import re

from panoramisk import Manager

import lowcode
from lowcode.context import local
from lowcode.urls import is_web_url

log = logging.getLogger("crm_app.telephony.ami")

CONFIG_POLL = 30          # seconds between looks at the settings
BACKOFF_MIN, BACKOFF_MAX = 1, 60
TIMEOUT = 10              # seconds to connect, and for an answer to an action
PING_SECONDS = 20
_CHANNEL_EXTENSION = re.compile(r"^[^/]+/([^-@;/]+)")


class _Manager(Manager):
    """panoramisk's Manager reconnecting through ``listen``'s back-off rather than its
    own fixed delay: a failed connect or a lost connection is left to the caller."""

    def __init__(self, **config):
        super().__init__(**config)
        self.lost = self.loop.create_future()

    def connection_made(self, f):
        if f.cancelled() or f.exception() is not None:
            return
        super().connection_made(f)

    def connection_lost(self, exc):
        self._connected = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        if not self.lost.done():
            self.lost.set_result(exc)


def _run(site, bench, fn, *args, **kwargs):
    """``fn`` in the site as Administrator, committed."""
    with lowcode.site_context(site, bench=bench):
        result = fn(*args, **kwargs)
        local.db.commit()
        return result


async def _in_site(site, bench, fn, *args, **kwargs):
    return await asyncio.to_thread(_run, site, bench, fn, *args, **kwargs)


def _config():
    """What the listener needs from Telephony Settings, or None while AMI is off."""
    from crm_app.doctype.telephony_settings.telephony_settings import secret
    settings = lowcode.get_doc("Telephony Settings")
    if not int(settings.ami_enabled or 0) or not settings.ami_host:
        if settings.ami_status not in (None, "", "Disabled") and local.db.exists("Telephony Settings", "Telephony Settings"):
            set_status("Disabled")
        return None
    return {"host": settings.ami_host, "port": int(settings.ami_port or 5038),
            "username": settings.ami_username or "", "secret": secret("ami_secret") or "",
            "recording_variable": (settings.recording_variable or "MIXMONITOR_FILENAME").upper(),
            "recording_url_pattern": settings.recording_url_pattern or "",
            "originate_context": settings.originate_context or "from-internal",
            "originate_channel": settings.originate_channel or "PJSIP/{extension}"}


def set_status(status, error=None):
    """The listener's state on Telephony Settings for admins: a plain UPDATE (bookkeeping,
    not an edit: no version, and an admin's open form never turns stale)."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    if error is None:
        local.db.sql("UPDATE `tabTelephony Settings` SET `ami_status`=%s, `ami_status_at`=%s WHERE `name`=%s",
                     (status, stamp, "Telephony Settings"))
    else:
        local.db.sql("UPDATE `tabTelephony Settings` SET `ami_status`=%s, `ami_status_at`=%s, `ami_last_error`=%s "
                     "WHERE `name`=%s", (status, stamp, str(error)[:1000], "Telephony Settings"))


async def listen(site, bench=None):  # the realtime_services contract: (site, bench)
    """Run the AMI listener of ``site`` until cancelled."""
    backoff = BACKOFF_MIN
    while True:
        try:
            config = await _in_site(site, bench, _config)
        except Exception:
            log.exception("AMI %s: cannot read Telephony Settings", site)
            config = None
        if config is None:
            await asyncio.sleep(CONFIG_POLL)
            continue
        try:
            connected = await _session(site, bench, config)
        except Exception:  # the database, say: keep the service alive and try again later
            log.exception("AMI %s: session failed", site)
            connected = False
        if asyncio.current_task().cancelling():
            # Python 3.11's wait_for can swallow a cancel that lands as its inner await
            # completes; the service is being stopped all the same.
            raise asyncio.CancelledError
        if connected:
            backoff = BACKOFF_MIN  # it was connected: the next try comes quickly
        log.info("AMI %s: reconnecting in %s s", site, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX)


async def _session(site, bench, config):
    """One connection, until it is lost; True when it was logged in."""
    loop = asyncio.get_running_loop()
    manager = _Manager(host=config["host"], port=config["port"], loop=loop, encoding="utf8", log=log,
                       ping_delay=PING_SECONDS, ping_interval=PING_SECONDS)
    calls = CallTracker(site, bench, config)
    manager.register_event("*", calls.on_event)
    worker = asyncio.create_task(calls.work())
    logged_in = False
    try:
        await _in_site(site, bench, set_status, "Connecting")
        await asyncio.wait_for(manager.connect(), TIMEOUT)
        answer = await asyncio.wait_for(manager.send_action(
            {"Action": "Login", "Username": config["username"], "Secret": config["secret"],
             "Events": "call,dialplan"}), TIMEOUT)
        if not answer.success:
            raise ConnectionError(f"login refused: {answer.get('Message') or answer.get('Response')}")
        logged_in = True
        await _in_site(site, bench, set_status, "Connected")
        log.info("AMI %s: connected to %s:%s", site, config["host"], config["port"])
        while not manager.lost.done():
            if asyncio.current_task().cancelling():
                raise asyncio.CancelledError  # a cancel a wait_for above swallowed (see listen)
            await asyncio.wait([manager.lost], timeout=CONFIG_POLL)
            if not manager.lost.done() and await _in_site(site, bench, _config) != config:
                log.info("AMI %s: Telephony Settings changed: reconnecting", site)
                return logged_in  # an admin changed or disabled the connection
        raise ConnectionError("connection lost")
    except (OSError, asyncio.TimeoutError, ConnectionError) as e:
        error = str(e) or type(e).__name__
        log.warning("AMI %s: %s:%s: %s", site, config["host"], config["port"], error)
        try:
            await _in_site(site, bench, set_status, "Disconnected", error)
        except Exception:
            log.exception("AMI %s: cannot write the status", site)
    finally:
        manager.close()
        try:
            await calls.drain()
        finally:
            worker.cancel()
    return logged_in


def extension_of(channel):
    """'PJSIP/101-0000002a' -> '101' (also SIP/, IAX2/, Local/101@context-...;1)."""
    m = _CHANNEL_EXTENSION.match(channel or "")
    return m.group(1) if m else None


class CallTracker:
    """AMI events -> call events (``calls.handle_call_event`` arguments), in order."""

    def __init__(self, site, bench, config):
        self.site, self.bench, self.config = site, bench, config
        self.calls = {}                 # Linkedid -> {"number", "to", "recording", "rung", "answered"}
        self.queue = asyncio.Queue()

    def on_event(self, manager, event):
        try:
            for item in self.translate(event):
                self.queue.put_nowait(item)
        except Exception:
            log.exception("AMI %s: cannot read event %r", self.site, event.get("Event"))

    def translate(self, event):
        name = (event.get("Event") or "").lower()
        uniqueid = event.get("Uniqueid") or ""
        linkedid = event.get("Linkedid") or uniqueid
        if not linkedid:
            return []
        if name == "newchannel" and uniqueid == linkedid:
            self.calls[linkedid] = {"number": event.get("CallerIDNum"), "to": event.get("Exten"),
                                    "origin": extension_of(event.get("Channel")),
                                    "recording": None, "rung": set(), "answered": False}
            return []
        call = self.calls.get(linkedid)
        if call is None:
            return []           # a call that began before we listened, or not one we follow
        if name == "dialbegin" or (name == "newstate" and event.get("ChannelState") == "5" and uniqueid != linkedid):
            channel = event.get("DestChannel") if name == "dialbegin" else event.get("Channel")
            extension = extension_of(channel) or event.get("DestCallerIDNum" if name == "dialbegin" else "CallerIDNum")
            if not extension or extension in call["rung"]:
                return []
            call["rung"].add(extension)
            number = call["number"] or event.get("ConnectedLineNum")
            return [dict(event="ringing", call_id=linkedid, number=number, to=call["to"], extension=extension,
                         origin=call["origin"], at=datetime.datetime.now())]
        if name == "bridgeenter" and uniqueid != linkedid and not call["answered"]:
            call["answered"] = True
            return [dict(event="answered", call_id=linkedid, extension=extension_of(event.get("Channel")),
                         origin=call["origin"], at=datetime.datetime.now())]
        if name == "varset" and (event.get("Variable") or "").upper() == self.config["recording_variable"]:
            call["recording"] = event.get("Value") or None
            return []
        if name == "hangup" and uniqueid == linkedid:
            self.calls.pop(linkedid, None)
            if not call["rung"] and not call["answered"]:
                return []       # never reached an agent (an internal or outgoing call)
            return [dict(event="ended", call_id=linkedid, cause=event.get("Cause"), origin=call["origin"],
                         recording_url=self.recording_url(linkedid, call["recording"]), at=datetime.datetime.now())]
        return []

    def recording_url(self, call_id, recording):
        pattern = self.config["recording_url_pattern"]
        if pattern:
            url = pattern.replace("{filename}", os.path.basename(recording or "")).replace("{call_id}", call_id)
            return url if is_web_url(url) and ("{filename}" not in pattern or recording) else None
        return recording if recording and is_web_url(recording) else None

    async def work(self):
        while True:
            item = await self.queue.get()
            try:
                await _in_site(self.site, self.bench, apply, **item)
            except Exception:
                log.exception("AMI %s: call %s: %s failed", self.site, item.get("call_id"), item.get("event"))
            finally:
                self.queue.task_done()

    async def drain(self):
        """Let the events already read be applied (a lost connection loses none of them)."""
        joined = asyncio.ensure_future(self.queue.join())
        done, _ = await asyncio.wait([joined], timeout=TIMEOUT)  # wait(), unlike wait_for, never eats a cancel
        if not done:
            joined.cancel()
            log.warning("AMI %s: %s call events not applied", self.site, self.queue.qsize())


def apply(event, origin=None, **values):
    """One call event of the tracker (in the site, in a worker thread): a call an
    agent's phone began is theirs, Outgoing to the number they dialled."""
    from .calls import agent_user, handle_call_event, settings
    if origin and agent_user(settings(), origin):
        values.update(direction="Outgoing", extension=origin)
        if event == "ringing":
            values.update(number=values.get("to"), to=None)
    return handle_call_event(event, **values)


class OriginateError(Exception):
    pass


def originate(config, extension, number):
    """Ring the agent's ``extension``; when they answer, the PBX dials ``number``
    (digits as the PBX's outbound routes take them). Blocks at most a few TIMEOUTs."""
    async def run():
        manager = _Manager(host=config["host"], port=config["port"], loop=asyncio.get_running_loop(),
                           encoding="utf8", log=log, ping_delay=TIMEOUT * 6)
        try:
            await asyncio.wait_for(manager.connect(), TIMEOUT)
            answer = await asyncio.wait_for(manager.send_action(
                {"Action": "Login", "Username": config["username"], "Secret": config["secret"], "Events": "off"}),
                TIMEOUT)
            if not answer.success:
                raise OriginateError("the PBX refused the AMI login")
            answer = await asyncio.wait_for(manager.send_action(
                {"Action": "Originate", "Channel": config["originate_channel"].replace("{extension}", extension),
                 "Context": config["originate_context"], "Exten": number, "Priority": "1",
                 "CallerID": number, "Timeout": "30000", "Async": "true"}, as_list=False), TIMEOUT)
            if not answer.success:
                raise OriginateError(f"the PBX refused the call: {answer.get('Message') or answer.get('Response')}")
        except (OSError, asyncio.TimeoutError) as e:
            raise OriginateError(f"the PBX cannot be reached ({type(e).__name__})") from None
        finally:
            manager.close()
    asyncio.run(run())
