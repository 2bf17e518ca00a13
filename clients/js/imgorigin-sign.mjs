// Signs imgorigin resizer URLs (the default HMAC scheme) in Node.js, with no
// dependencies. The scheme, also in README.md:
//   s = base64url-nopad(HMAC-SHA256(key, path + "?" + canonical query))
// key: the hex of --sign-keys, decoded; path: percent-decoded; canonical
// query: every parameter but s, sorted by name (values in their order), name
// and value escaped as Go's url.QueryEscape does, joined name=value by "&".
//
//   import { signURL } from './imgorigin-sign.mjs'
//   signURL(process.env.SIGN_KEY, 'https://img.example.com/KEY?w=333&fm=webp')
//
// Command line: node imgorigin-sign.mjs HEXKEY URL
import { createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';

// Go's url.QueryEscape: unreserved characters stay, space is "+", the rest %XX.
const queryEscape = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, '+');

const byCodeUnit = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export function canonicalQuery(searchParams) {
  const names = [...new Set([...searchParams.keys()])].filter((k) => k !== 's').sort(byCodeUnit);
  return names.flatMap((k) => searchParams.getAll(k).map((v) => queryEscape(k) + '=' + queryEscape(v))).join('&');
}

export function sign(hexKey, path, searchParams) {
  const payload = path + '?' + canonicalQuery(searchParams);
  return createHmac('sha256', Buffer.from(hexKey, 'hex')).update(payload).digest('base64url');
}

// signURL returns url with s appended; a relative URL ("/KEY?w=333") stays relative.
export function signURL(hexKey, url) {
  const u = new URL(url, 'http://relative.invalid');
  const s = sign(hexKey, decodeURIComponent(u.pathname), u.searchParams);
  const signed = url + (u.search ? '&' : '?') + 's=' + s;
  return signed;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [hexKey, url] = process.argv.slice(2);
  if (!hexKey || !url) {
    console.error('usage: node imgorigin-sign.mjs HEXKEY URL');
    process.exit(2);
  }
  console.log(signURL(hexKey, url));
}
