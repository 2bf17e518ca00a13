// Verifies a result token with jose's remote JWKS set.
// Usage: node jose.mjs JWKS_URL ISSUER TOKEN; exit 0 = accepted.
import { createRemoteJWKSet, jwtVerify } from 'jose';
const [jwksUri, issuer, token] = process.argv.slice(2);
try {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(jwksUri)), {
    issuer, audience: 'result', typ: 'imgorigin-result+jwt', algorithms: ['ES256'],
  });
  console.log(['accepted', payload.key, payload.color, payload.thumbhash].join(' '));
} catch (e) {
  console.log('rejected: ' + e.message);
  process.exit(1);
}
