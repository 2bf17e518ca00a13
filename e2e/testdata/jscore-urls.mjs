// Builds URLs for one stored key with @imgix/js-core, the way apps call it:
// buildURL with common parameters, and buildSrcSet with its default widths,
// fixed widths, a width range and DPR variants, without and with
// secureURLToken. Prints one JSON object per URL: {client, call, url}.
// Usage: node jscore-urls.mjs KEY TOKEN
import ImgixClient from '@imgix/js-core';

const [key, token] = process.argv.slice(2);
const clients = {
  unsigned: new ImgixClient({ domain: 'images.example.com', useHTTPS: false }),
  signed: new ImgixClient({ domain: 'images.example.com', useHTTPS: false, secureURLToken: token }),
};

for (const [name, client] of Object.entries(clients)) {
  const emit = (call, url) => console.log(JSON.stringify({ client: name, call, url }));
  const srcset = (call, s) => s.split(',\n').forEach((entry) => emit(call, entry.split(' ')[0]));

  emit('buildURL()', client.buildURL(key));
  emit('buildURL({w: 400})', client.buildURL(key, { w: 400 }));
  emit('buildURL({w: 300, h: 300, fit: crop})', client.buildURL(key, { w: 300, h: 300, fit: 'crop' }));
  emit('buildURL({w: 640, auto: format,compress})', client.buildURL(key, { w: 640, auto: 'format,compress' }));
  emit('buildURL({w: 500, ar: 16:9, fit: crop, crop: faces})', client.buildURL(key, { w: 500, ar: '16:9', fit: 'crop', crop: 'faces' }));
  emit('buildURL({w: 300, dpr: 2})', client.buildURL(key, { w: 300, dpr: 2 }));
  emit('buildURL({w: 250, fm: webp, q: 60})', client.buildURL(key, { w: 250, fm: 'webp', q: 60 }));
  emit('buildURL({w: 200, blur: 200})', client.buildURL(key, { w: 200, blur: 200 }));
  emit('buildURL({w: 1000, fit: min})', client.buildURL(key, { w: 1000, h: 500, fit: 'min' }));
  emit('buildURL({w: 600, h: 600, fit: fillmax, bg: fff})', client.buildURL(key, { w: 600, h: 600, fit: 'fillmax', bg: 'fff' }));
  srcset('buildSrcSet() default widths', client.buildSrcSet(key));
  srcset('buildSrcSet({auto: format}) default widths', client.buildSrcSet(key, { auto: 'format' }));
  srcset('buildSrcSet widths [100, 333, 720, 1600]', client.buildSrcSet(key, {}, { widths: [100, 333, 720, 1600] }));
  srcset('buildSrcSet minWidth 500 maxWidth 2000', client.buildSrcSet(key, {}, { minWidth: 500, maxWidth: 2000 }));
  srcset('buildSrcSet({w: 320}) DPR 1-5', client.buildSrcSet(key, { w: 320 }));
  srcset('buildSrcSet({h: 300, ar: 3:2, fit: crop}) DPR 1-5', client.buildSrcSet(key, { h: 300, ar: '3:2', fit: 'crop' }));
}
