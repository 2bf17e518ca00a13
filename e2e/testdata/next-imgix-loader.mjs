// The URLs Next.js's built-in imgix loader makes (loader: 'imgix' in
// next.config.js), over Next's default deviceSizes and imageSizes, for a few
// src shapes. The loader below is Next.js's own (next/legacy/image, and the
// file its next-image-experimental codemod writes), unchanged. Prints one JSON
// object per URL: {shape, width, url}.
// Usage: node next-imgix-loader.mjs KEY
const config = { path: 'http://images.example.com/' };
const deviceSizes = [640, 750, 828, 1080, 1200, 1920, 2048, 3840];
const imageSizes = [16, 32, 48, 64, 96, 128, 256, 384];

function normalizeSrc(src) {
  return src[0] === '/' ? src.slice(1) : src;
}

function imgixLoader({ config, src, width, quality }) {
  // Demo: https://static.imgix.net/daisy.png?auto=format&fit=max&w=300
  const url = new URL(`${config.path}${normalizeSrc(src)}`);
  const params = url.searchParams;

  // auto params can be combined with comma separation, or reiteration
  params.set('auto', params.getAll('auto').join(',') || 'format');
  params.set('fit', params.get('fit') || 'max');
  params.set('w', params.get('w') || width.toString());

  if (quality) {
    params.set('q', quality.toString());
  }

  return url.href;
}

const [key] = process.argv.slice(2);
const shapes = [
  ['next/image default (quality 75)', '/' + key, 75],
  ['no quality', '/' + key, undefined],
  ['src with auto=compress', '/' + key + '?auto=compress', 75],
  ['src with auto=format&auto=compress&fit=crop&h=200', '/' + key + '?auto=format&auto=compress&fit=crop&h=200', 50],
];
for (const [shape, src, quality] of shapes) {
  for (const width of [...deviceSizes, ...imageSizes]) {
    console.log(JSON.stringify({ shape, width, url: imgixLoader({ config, src, width, quality }) }));
  }
}
