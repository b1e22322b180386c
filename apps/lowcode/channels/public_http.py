"""HTTP that reaches public addresses only, for requests whose target a user chose
(webhooks). Checking the name before sending is not enough: a name can resolve to a
public address for the check and to 127.0.0.1 a moment later (DNS rebinding). So the
address is checked on the socket actually connected, before a byte is sent."""
import ipaddress

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class PrivateAddressError(OSError):
    """The connection reached a private, loopback or otherwise non-public address."""


def is_public(address):
    return ipaddress.ip_address(address.split("%")[0]).is_global


class _PublicOnly:
    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if not is_public(peer):
            sock.close()
            raise PrivateAddressError(f"{self.host} connected to {peer}, a private or local address")
        return sock


class _HTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _HTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _PublicAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def public_session():
    """A requests Session whose connections refuse non-public peers. Proxies from the
    environment are ignored: the peer would be the proxy, not the target."""
    session = requests.Session()
    session.trust_env = False
    adapter = _PublicAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def refused_as_private(error, depth=0):
    """The PrivateAddressError behind a requests ConnectionError (urllib3 wraps it in a
    ProtocolError or a MaxRetryError's reason), if that is what it was."""
    if isinstance(error, PrivateAddressError):
        return error
    if not isinstance(error, BaseException) or depth > 5:
        return None
    for inner in (*error.args, getattr(error, "reason", None), error.__cause__, error.__context__):
        found = refused_as_private(inner, depth + 1)
        if found:
            return found
    return None
