// Verifies a result token the way most Node backends do: jsonwebtoken with
// jwks-rsa. Usage: node jsonwebtoken.js JWKS_URL ISSUER TOKEN; exit 0 = accepted.
const jwt = require('jsonwebtoken');
const jwksClient = require('jwks-rsa');
const [jwksUri, issuer, token] = process.argv.slice(2);
const client = jwksClient({ jwksUri });
const getKey = (header, cb) => client.getSigningKey(header.kid, (err, key) => cb(err, key && key.getPublicKey()));
jwt.verify(token, getKey, { algorithms: ['ES256'], issuer, audience: 'result' }, (err, claims) => {
  if (err) {
    console.log('rejected: ' + err.message);
    process.exit(1);
  }
  console.log('accepted ' + claims.key);
});
