// Builds URLs with @imgix/js-core for the URL API beyond sizes: the
// adjustments, stylizations, frames, masks, fills, trims, output options,
// watermarks and text, with and without secureURLToken. js-core encodes
// the *64 parameters itself. Prints one JSON object per URL:
// {client, call, url, dear, kind} (dear: only a signed URL may ask it;
// kind: image, json or css).
// Usage: node jscore-params.mjs KEY MARK_KEY TOKEN
import ImgixClient from '@imgix/js-core';

const [key, mark, token] = process.argv.slice(2);
const clients = {
  unsigned: new ImgixClient({ domain: 'images.example.com', useHTTPS: false }),
  signed: new ImgixClient({ domain: 'images.example.com', useHTTPS: false, secureURLToken: token }),
};
const sets = [
  { params: { bri: 20, con: 10, exp: 5, gam: 10, high: -20, shad: 20, invert: true, flip: 'h' } },
  { params: { or: 90 } },
  { params: { rect: '0,0,0.5,0.5' } },
  { params: { h: 300, fit: 'crop', crop: 'focalpoint', 'fp-x': 0.3, 'fp-y': 0.6, 'fp-z': 2 } },
  { params: { h: 300, fit: 'crop', 'max-w': 300, 'min-h': 200 } },
  { params: { h: 400, fit: 'clamp' } },
  { params: { pad: 10, border: '4,ff0000', 'border-bottom': 8, bg: 'lightsteelblue' } },
  { params: { h: 400, fit: 'fill', fill: 'solid', 'fill-color': 'fafafa' } },
  { params: { fm: 'png', colorquant: 16, cs: 'srgb', dpi: 300 } },
  { params: { fm: 'jpg', 'jpg-progressive': false, chromasub: 444, q: 0 } },
  { params: { dpr: 0.75 } },
  { params: { width: 200, 'max-height': 100 } },
  { params: { sat: -100, vib: 20, hue: 30 }, dear: true },
  { params: { sharp: 20, usm: 30, usmrad: 3, nr: 20, nrs: 20 }, dear: true },
  { params: { sepia: 50, px: 8, htn: 30 }, dear: true },
  { params: { duotone: '000080,fa8072', 'duotone-alpha': 80, monochrome: '80ff0000' }, dear: true },
  { params: { rot: 12, 'rot-type': 'pivot' }, dear: true },
  { params: { mask: 'ellipse', fm: 'png' }, dear: true },
  { params: { mask: 'ellipse', fm: 'webp' }, dear: true },
  { params: { mask: 'ellipse', fm: 'avif' }, dear: true },
  { params: { h: 400, fit: 'crop', crop: 'faces' } },
  { params: { h: 400, fit: 'facearea', facepad: 1.5, faceindex: 1 } },
  { params: { fm: 'json', faces: 1 }, kind: 'json' },
  { params: { mask: 'corners', 'corner-radius': '20,0,20,0', 'mask-bg': 'fff' }, dear: true },
  { params: { border: '10,000', 'border-radius': 20, 'border-stroke-size': 2, 'border-stroke-color': 'fff' }, dear: true },
  { params: { h: 400, fit: 'fill', fill: 'gradient', 'fill-gradient-type': 'radial', 'fill-gradient-radial': 'ff0000,0000ff', 'fill-gradient-cs': 'oklab' }, dear: true },
  { params: { h: 400, fit: 'fill', fill: 'blur' }, dear: true },
  { params: { trim: 'auto', 'trim-md': 20, 'trim-pad': 4 }, dear: true },
  { params: { mark, 'mark-w': 0.2, 'mark-align': 'bottom,right', 'mark-alpha': 70, 'mark-pad': 10 }, dear: true },
  { params: { blend: mark, 'blend-mode': 'multiply', 'blend-size': 'inherit', 'blend-alpha': 50 }, dear: true },
  { params: { txt64: 'Hello, imgix! ✓', 'txt-size': 32, 'txt-color': 'fff', 'txt-align': 'bottom,center', 'txt-line': 2, 'txt-shad': 3, 'txt-font': 'DejaVu Sans,Bold' }, dear: true },
  { params: { palette: 'json', colors: 4 }, kind: 'json' },
  { params: { palette: 'css', prefix: 'hero' }, kind: 'css' },
  { params: { fm: 'json' }, kind: 'json' },
];

for (const [name, client] of Object.entries(clients)) {
  for (const set of sets) {
    const params = { w: 400, ...set.params };
    if (set.kind || params.width) delete params.w;
    console.log(JSON.stringify({
      client: name, call: JSON.stringify(params), url: client.buildURL(key, params),
      dear: !!set.dear, kind: set.kind || 'image',
    }));
  }
}
