"""Encrypted backups: authenticated encryption in chunks, so a dump of many gigabytes is
written and read a megabyte at a time and never sits in memory.

The construction is the well-known STREAM one (as Tink's streaming AEAD), built from the
``cryptography`` package's AES-GCM: written by hand because no kept library offers a
streaming AEAD file format. A file is

    MAGIC | salt (16) | nonce prefix (7) | key check (16) | chunk*
    chunk = length of the sealed chunk (4, big-endian) | AES-256-GCM(plaintext <= 1 MiB)

The file key comes from the site's secret through HKDF with the file's random salt (so no
two files share a key and nonce); chunk i is sealed under nonce prefix | i | last-flag with
the header as associated data, so a chunk changed, dropped, reordered or a file cut short
fails to open. The key check tells a wrong key apart from a changed file.
"""
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .exceptions import CommandError

MAGIC = b"LCBKENC1"
SUFFIX = ".enc"
CHUNK = 1 << 20
_SALT, _PREFIX, _CHECK, _TAG = 16, 7, 16, 16
HEADER_SIZE = len(MAGIC) + _SALT + _PREFIX + _CHECK


def backup_key(conf):
    """The secret backups are encrypted with: ``backup_encryption_key``, else the site's
    ``encryption_key`` (keep a copy of it away from the server, or the backups are lost with it)."""
    key = conf.get("backup_encryption_key") or conf.get("encryption_key")
    if not key:
        raise CommandError("no backup_encryption_key or encryption_key in the site config to encrypt backups with")
    return key


def wants_encryption(conf):
    return bool(conf.get("encrypt_backup"))


def _derive(secret, salt):
    okm = HKDF(algorithm=hashes.SHA256(), length=32 + _CHECK, salt=salt,
               info=b"lowcode backup v1").derive(secret.encode("utf-8"))
    return AESGCM(okm[:32]), okm[32:]


def _nonce(prefix, index, last):
    return prefix + struct.pack(">I?", index, last)


class EncryptingWriter:
    """A binary file-like object (write, flush, close) sealing what is written into ``raw``
    chunk by chunk; gzip and tarfile write through it. ``close`` seals the last chunk."""

    def __init__(self, raw, secret):
        salt, self._prefix = os.urandom(_SALT), os.urandom(_PREFIX)
        self._aead, check = _derive(secret, salt)
        self._header = MAGIC + salt + self._prefix + check
        self._raw, self._buffer, self._index, self.closed = raw, bytearray(), 0, False
        raw.write(self._header)

    def writable(self):
        return True

    def write(self, data):
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep one back: the last chunk is sealed as last
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self):
        pass

    def close(self):
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer = bytearray()
            self.closed = True

    def _seal(self, chunk, last):
        if self._index >= 2 ** 32:
            raise CommandError("backup too large to encrypt (more than 4 PiB)")
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, last), chunk, self._header)
        self._raw.write(struct.pack(">I", len(sealed)) + sealed)
        self._index += 1


def is_encrypted(path):
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def decrypt_file(path, target, secret):
    """Open every chunk of ``path`` into ``target``; raise CommandError naming the problem
    (wrong key, changed or cut-short file) before the caller uses any of it."""
    with open(path, "rb") as src, open(target, "wb") as out:
        header = src.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
            raise CommandError(f"{path} is not an encrypted lowcode backup")
        salt = header[len(MAGIC):len(MAGIC) + _SALT]
        prefix = header[len(MAGIC) + _SALT:len(MAGIC) + _SALT + _PREFIX]
        aead, check = _derive(secret, salt)
        if check != header[-_CHECK:]:
            raise CommandError(f"cannot decrypt {path}: wrong key (the backup was encrypted with another "
                               "backup_encryption_key / encryption_key)")
        index, sealed = 0, _read_chunk(src, path)
        while sealed is not None:
            following = _read_chunk(src, path)
            try:
                out.write(aead.decrypt(_nonce(prefix, index, following is None), sealed, header))
            except InvalidTag:
                raise CommandError(f"cannot decrypt {path}: the file was changed or cut short "
                                   f"(chunk {index} fails its check)") from None
            index, sealed = index + 1, following
        if index == 0:
            raise CommandError(f"cannot decrypt {path}: the file was cut short (no data)")


def _read_chunk(src, path):
    size = src.read(4)
    if not size:
        return None
    if len(size) < 4:
        raise CommandError(f"cannot decrypt {path}: the file was cut short")
    (length,) = struct.unpack(">I", size)
    if length < _TAG or length > CHUNK + _TAG:
        raise CommandError(f"cannot decrypt {path}: the file was changed (bad chunk length)")
    sealed = src.read(length)
    if len(sealed) < length:
        raise CommandError(f"cannot decrypt {path}: the file was cut short")
    return sealed
