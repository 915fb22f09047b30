"""The two string hashes of Keras' Hashing and lookup layers (TensorFlow's
``strings.to_hash_bucket_fast`` and ``to_hash_bucket_strong``): farmhash Fingerprint64 from
pyfarmhash (the optional extra ``ember[text]``, imported on first use), and SipHash-2-4 with a
128-bit key, written here (a few lines, no dependency)."""
from __future__ import annotations

import numbers
import struct

_MASK = (1 << 64) - 1


def fingerprint64_buckets(strings, num_buckets, feature):
    """farmhash Fingerprint64 of each UTF-8 string, modulo num_buckets."""
    try:
        import farmhash
    except ImportError as error:
        raise ImportError(f"{feature} hashes strings with farmhash Fingerprint64, which needs "
                          'pyfarmhash: pip install "ember[text]"') from error
    return [farmhash.fingerprint64(s) % num_buckets for s in strings]


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & _MASK


def siphash24(key0, key1, data: bytes) -> int:
    """SipHash-2-4 of ``data`` under the key (key0, key1), as highwayhash's SipHash."""
    v = [key0 ^ 0x736F6D6570736575, key1 ^ 0x646F72616E646F6D,
         key0 ^ 0x6C7967656E657261, key1 ^ 0x7465646279746573]

    def sip_round():
        v[0] = (v[0] + v[1]) & _MASK
        v[1] = _rotl(v[1], 13) ^ v[0]
        v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & _MASK
        v[3] = _rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & _MASK
        v[3] = _rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & _MASK
        v[1] = _rotl(v[1], 17) ^ v[2]
        v[2] = _rotl(v[2], 32)

    def absorb(word, rounds):
        v[3] ^= word
        for _ in range(rounds):
            sip_round()
        v[0] ^= word

    end = len(data) - len(data) % 8
    for i in range(0, end, 8):
        absorb(struct.unpack_from("<Q", data, i)[0], 2)
    last = (len(data) & 0xFF) << 56
    for i, byte in enumerate(data[end:]):
        last |= byte << (8 * i)
    absorb(last, 2)
    v[2] ^= 0xFF
    for _ in range(4):
        sip_round()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def siphash_buckets(strings, num_buckets, salt):
    return [siphash24(salt[0], salt[1], s.encode("utf-8")) % num_buckets for s in strings]


def hash_buckets(strings, num_buckets, salt, feature):
    """Keras' OOV/Hashing buckets: SipHash-2-4 keyed by ``salt`` (two integers), else
    farmhash Fingerprint64."""
    if salt is not None:
        return siphash_buckets(strings, num_buckets, salt)
    return fingerprint64_buckets(strings, num_buckets, feature)


def standardize_salt(owner, salt):
    """None, an integer k (the key (k, k)) or two integers, as a list of two ints."""
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in salt):
        return [int(salt[0]), int(salt[1])]
    if isinstance(salt, numbers.Integral) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    raise ValueError(f"The `salt` argument for `{owner}` can only be a tuple of 2 integers, or "
                     f"a single integer. Received: salt={salt}.")
