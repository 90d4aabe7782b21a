"""STUN messages for the capture generators' own peers (RFC 8489).

coturn, aioice and stund make most of the corpus; where a capture needs a
peer they cannot play (a SOFTWARE value of our choosing, terminal escapes in
every string, a STUN responder behind a tun device, a client that writes its
requests in chosen pieces), the generator runs a small peer of its own. Those
peers share this one builder and parser, so every generated message is
framed, padded, XOR-encoded and fingerprinted the same way:
captures/gen/xss_software.py, terminal_escapes.py and foundation_traffic.py.

Only what those peers send is here: IPv4 and IPv6 XOR addresses,
FINGERPRINT always last, and MESSAGE-INTEGRITY under a long-term key for the
TURN client of our own (turn_client.py, RFC 8489 section 9.2).
"""
import hashlib
import hmac
import ipaddress
import struct
import zlib

MAGIC_COOKIE = 0x2112A442
# RFC 8489 section 14.7: the CRC-32 is XOR'ed with "STUN".
FINGERPRINT_XOR = 0x5354554E
HEADER_LENGTH = 20

# Message types (method and class combined, RFC 8489 section 5 / RFC 8656).
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
ALLOCATE_REQUEST = 0x0003
ALLOCATE_SUCCESS = 0x0103
ALLOCATE_ERROR = 0x0113

# TURN methods (RFC 8656): requests; success = | 0x0100, error = | 0x0110.
REFRESH_REQUEST = 0x0004
SEND_INDICATION = 0x0016
DATA_INDICATION = 0x0017
CREATE_PERMISSION_REQUEST = 0x0008
CHANNEL_BIND_REQUEST = 0x0009

# Attribute types.
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_TRANSPORT = 0x0019
XOR_MAPPED_ADDRESS = 0x0020
SOFTWARE = 0x8022
FINGERPRINT = 0x8028


def attribute(kind, value):
    """One attribute: type, length of the value, the value padded to 4 bytes."""
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def fingerprint_value(head_and_body):
    return (zlib.crc32(head_and_body) & 0xFFFFFFFF) ^ FINGERPRINT_XOR


def long_term_key(username, realm, password):
    """RFC 8489 section 9.2.2: MD5(username ":" realm ":" password)."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()


def message(msg_type, txid, attributes, key=None):
    """A STUN message of the given attributes with FINGERPRINT last.

    With key: MESSAGE-INTEGRITY (HMAC-SHA1) before FINGERPRINT, taken over
    the message with a header length that counts MESSAGE-INTEGRITY but not
    yet FINGERPRINT (RFC 8489 section 14.5). The header's length already
    counts the 8-byte FINGERPRINT attribute when the CRC is taken over it
    (RFC 8489 section 14.7)."""
    body = b"".join(attributes)
    if key is not None:
        head = struct.pack("!HHI", msg_type, len(body) + 24, MAGIC_COOKIE) + txid
        body += attribute(MESSAGE_INTEGRITY, hmac.new(key, head + body, hashlib.sha1).digest())
    head = struct.pack("!HHI", msg_type, len(body) + 8, MAGIC_COOKIE) + txid
    return head + body + attribute(FINGERPRINT, struct.pack("!I", fingerprint_value(head + body)))


def xor_address(kind, ip, port, txid):
    """An XOR-MAPPED-ADDRESS style attribute (XOR-RELAYED-ADDRESS too).

    ip is text or packed bytes (4 or 16). IPv4 is XOR'ed with the magic
    cookie, IPv6 with the cookie followed by the transaction ID (RFC 8489
    section 14.2), the port with the cookie's upper half."""
    packed = ipaddress.ip_address(ip).packed
    key = struct.pack("!I", MAGIC_COOKIE) + txid
    family = 1 if len(packed) == 4 else 2
    addr = bytes(a ^ k for a, k in zip(packed, key))
    return attribute(kind, struct.pack("!BBH", 0, family, port ^ (MAGIC_COOKIE >> 16)) + addr)


def decode_xor_address(value, txid):
    """(ip text, port) of an XOR address attribute's value."""
    family, xport = struct.unpack("!xBH", value[:4])
    key = struct.pack("!I", MAGIC_COOKIE) + txid
    size = 4 if family == 1 else 16
    packed = bytes(a ^ k for a, k in zip(value[4:4 + size], key))
    return str(ipaddress.ip_address(packed)), xport ^ (MAGIC_COOKIE >> 16)


def error_code(code, reason):
    """ERROR-CODE value: class (hundreds) and number, then the reason phrase."""
    return attribute(ERROR_CODE, struct.pack("!HBB", 0, code // 100, code % 100) + reason)


def parse(data, require_fingerprint=True):
    """(type, cookie, transaction ID, {attribute type: first value}) of one
    message that ends with FINGERPRINT; a wrong or missing FINGERPRINT raises
    (a missing one only with require_fingerprint).

    The first occurrence of an attribute wins (RFC 8489 section 14: later
    duplicates are ignored by a receiver)."""
    msg_type, length, cookie = struct.unpack("!HHI", data[:8])
    attrs, off = {}, HEADER_LENGTH
    while off + 4 <= HEADER_LENGTH + length:
        kind, alen = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(kind, data[off + 4:off + 4 + alen])
        off += 4 + alen + (-alen % 4)
    if FINGERPRINT not in attrs and not require_fingerprint:
        return msg_type, cookie, data[8:20], attrs
    if FINGERPRINT not in attrs or struct.unpack("!I", attrs[FINGERPRINT])[0] != fingerprint_value(data[:-8]):
        raise ValueError("bad or missing FINGERPRINT")
    return msg_type, cookie, data[8:20], attrs
