"""A loopback Asterisk Manager Interface for the telephony tests and the screen-pop
benchmark: an asyncio TCP server in its own thread that speaks AMI as Asterisk does
(banner, Login / Ping / Originate / Logoff responses, events sent on demand)."""
import asyncio
import random
import threading

SECRET = "ami-" + "5" * 12
WAIT = 10  # seconds any wait on the server may take at most


class AMIServer:
    """A loopback Asterisk Manager Interface in its own thread and event loop."""

    def __init__(self, secret=SECRET):
        self.secret = secret
        self.actions, self.writers, self.logins = [], [], 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(WAIT)

    async def _handle(self, reader, writer):
        writer.write(b"Asterisk Call Manager/5.0.1\r\n")
        buffer = b""
        while True:
            try:
                data = await reader.read(4096)
            except ConnectionError:  # the client went away mid-read
                break
            if not data:
                break
            buffer += data
            while b"\r\n\r\n" in buffer:
                block, buffer = buffer.split(b"\r\n\r\n", 1)
                headers = dict(line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line)
                self.actions.append(headers)
                self._answer(writer, headers)
        if writer in self.writers:
            self.writers.remove(writer)
        writer.close()

    def _answer(self, writer, action):
        kind, action_id = action.get("Action", "").lower(), action.get("ActionID")
        if kind == "login":
            ok = action.get("Secret") == self.secret
            self._send(writer, {"Response": "Success" if ok else "Error", "ActionID": action_id,
                                "Message": "Authentication accepted" if ok else "Authentication failed"})
            if ok:
                self.logins += 1
                self.writers.append(writer)
        elif kind == "ping":
            self._send(writer, {"Response": "Success", "ActionID": action_id, "Ping": "Pong"})
        elif kind == "originate":
            self._send(writer, {"Response": "Success", "ActionID": action_id, "Message": "Originate successfully queued"})
        elif kind == "logoff":
            self._send(writer, {"Response": "Goodbye", "ActionID": action_id})
        else:
            self._send(writer, {"Response": "Error", "ActionID": action_id, "Message": "Invalid/unknown command"})

    @staticmethod
    def _send(writer, headers):
        writer.write(("".join(f"{k}: {v}\r\n" for k, v in headers.items() if v is not None) + "\r\n").encode())

    def events(self, *events):
        """Send events (dicts) to every logged-in connection."""
        async def send():
            for event in events:
                for writer in list(self.writers):
                    self._send(writer, event)
                    await writer.drain()
        self.call(send())

    def drop(self):
        """Close every connection, as a PBX restart does."""
        async def close():
            for writer in list(self.writers):
                writer.close()
            self.writers.clear()
        self.call(close())

    def close(self):
        if not self.thread.is_alive():
            return
        self.drop()
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)


def incoming_call(linkedid, caller, extension="101", did="02188001234"):
    """The events of a call from ``caller`` to the DID, ringing ``extension``."""
    agent_channel, agent_id = f"PJSIP/{extension}-0000{random.randint(100, 999)}", f"{linkedid}1"
    trunk = f"PJSIP/trunk-0000{random.randint(100, 999)}"
    common = {"Linkedid": linkedid}
    return {
        "new": [{"Event": "Newchannel", "Channel": trunk, "ChannelState": "4", "ChannelStateDesc": "Ring",
                 "CallerIDNum": caller, "Exten": did, "Context": "from-trunk", "Uniqueid": linkedid, **common}],
        "ring": [{"Event": "DialBegin", "Channel": trunk, "CallerIDNum": caller, "DestChannel": agent_channel,
                  "DestCallerIDNum": extension, "Uniqueid": linkedid, "DestUniqueid": agent_id, **common},
                 {"Event": "Newstate", "Channel": agent_channel, "ChannelState": "5", "ChannelStateDesc": "Ringing",
                  "CallerIDNum": extension, "ConnectedLineNum": caller, "Uniqueid": agent_id, **common}],
        "answer": [{"Event": "BridgeEnter", "Channel": trunk, "Uniqueid": linkedid, **common},
                   {"Event": "BridgeEnter", "Channel": agent_channel, "Uniqueid": agent_id, **common}],
        "record": [{"Event": "VarSet", "Channel": trunk, "Variable": "MIXMONITOR_FILENAME",
                    "Value": f"/var/spool/asterisk/monitor/in-{linkedid}.wav", "Uniqueid": linkedid, **common}],
        "hangup": [{"Event": "Hangup", "Channel": agent_channel, "Cause": "16", "Uniqueid": agent_id, **common},
                   {"Event": "Hangup", "Channel": trunk, "Cause": "16", "Cause-txt": "Normal Clearing",
                    "Uniqueid": linkedid, **common}],
    }


def outgoing_call(linkedid, extension, dialled):
    """The events of agent ``extension`` dialling ``dialled`` out through the trunk."""
    agent_channel, trunk = f"PJSIP/{extension}-0000{random.randint(100, 999)}", f"PJSIP/trunk-0000{random.randint(100, 999)}"
    common = {"Linkedid": linkedid}
    return {
        "new": [{"Event": "Newchannel", "Channel": agent_channel, "ChannelState": "4", "CallerIDNum": extension,
                 "Exten": dialled, "Context": "from-internal", "Uniqueid": linkedid, **common}],
        "ring": [{"Event": "DialBegin", "Channel": agent_channel, "CallerIDNum": extension, "DestChannel": trunk,
                  "DestCallerIDNum": dialled, "Uniqueid": linkedid, "DestUniqueid": f"{linkedid}2", **common}],
        "hangup": [{"Event": "Hangup", "Channel": agent_channel, "Cause": "19", "Uniqueid": linkedid, **common}],
    }
