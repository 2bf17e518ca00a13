// Prints the reference ThumbHash (evanw/thumbhash, the npm package) of each
// raw RGBA file named on the command line as WIDTHxHEIGHT:PATH, base64, one
// a line.
import { readFileSync } from 'node:fs';
import { rgbaToThumbHash } from 'thumbhash';

for (const arg of process.argv.slice(2)) {
  const [size, path] = arg.split(/:(.*)/s);
  const [w, h] = size.split('x').map(Number);
  const hash = rgbaToThumbHash(w, h, new Uint8Array(readFileSync(path)));
  console.log(Buffer.from(hash).toString('base64'));
}
