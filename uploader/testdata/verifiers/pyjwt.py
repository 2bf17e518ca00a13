"""Verifies a result token with PyJWT and its JWKS client.

Usage: python3 pyjwt.py JWKS_URL ISSUER TOKEN; exit 0 = accepted.
"""
import sys

import jwt

jwks_uri, issuer, token = sys.argv[1:4]
try:
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token).key
    claims = jwt.decode(token, key, algorithms=["ES256"], audience="result", issuer=issuer)
    print("accepted", claims["key"], claims.get("color"), claims.get("thumbhash"))
except Exception as e:  # every refusal is an answer here
    print("rejected:", e)
    sys.exit(1)
