"""Signs imgorigin resizer URLs (the default HMAC scheme), standard library only.

The scheme, also in README.md:
    s = base64url-nopad(HMAC-SHA256(key, path + "?" + canonical query))
key: the hex of --sign-keys, decoded; path: percent-decoded; canonical query:
every parameter but s, sorted by name (values in their order), name and value
escaped as Go's url.QueryEscape does, joined name=value by "&".

    from imgorigin_sign import sign_url
    sign_url(os.environ["SIGN_KEY"], "https://img.example.com/KEY?w=333&fm=webp")

Command line: python3 imgorigin_sign.py HEXKEY URL
"""
import base64
import hashlib
import hmac
import sys
from urllib.parse import parse_qsl, quote_plus, unquote, urlsplit


def canonical_query(pairs):
    """pairs: (name, value) in URL order. quote_plus with safe="" escapes as Go's QueryEscape."""
    names = sorted({k for k, _ in pairs if k != "s"})
    return "&".join(quote_plus(k, safe="") + "=" + quote_plus(v, safe="") for k in names for kk, v in pairs if kk == k)


def sign(hex_key, path, pairs):
    payload = path + "?" + canonical_query(pairs)
    mac = hmac.new(bytes.fromhex(hex_key), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def sign_url(hex_key, url):
    """Returns url with s appended; a relative URL ("/KEY?w=333") stays relative."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    s = sign(hex_key, unquote(parts.path), pairs)
    return url + ("&" if parts.query else "?") + "s=" + s


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 imgorigin_sign.py HEXKEY URL")
    print(sign_url(sys.argv[1], sys.argv[2]))
