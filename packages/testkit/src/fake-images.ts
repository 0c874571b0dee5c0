/**
 * Tiny real images for the fakes' image hosts: generated PNG and baseline JPEG bytes (decodable, with
 * the size a record claims), picked per path, and served with a cache.
 */
import { crc32, deflateSync } from 'node:zlib';
import type { FakeRequest } from './http-fake.ts';

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A valid RGB PNG of one colour, `label` stored in a tEXt chunk (different labels → different bytes). */
export function makePng(
  width: number,
  height: number,
  label = '',
  rgb: [number, number, number] = [40, 90, 160],
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.alloc(row.length * height);
  for (let y = 0; y < height; y++) row.copy(raw, y * row.length);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('tEXt', Buffer.from(`Comment\0${label}`, 'latin1')),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const DC_CODES: [number, number][] = [
  [0b00, 2],
  [0b010, 3],
  [0b011, 3],
  [0b100, 3],
  [0b101, 3],
  [0b110, 3],
  [0b1110, 4],
  [0b11110, 5],
  [0b111110, 6],
  [0b1111110, 7],
  [0b11111110, 8],
  [0b111111110, 9],
];

/**
 * A valid baseline greyscale JPEG of one shade: quantisation 1, the standard luminance DC table and a
 * one-symbol AC table (end-of-block), so every 8×8 block after the first is 3 bits. `label` goes
 * into a COM segment.
 */
export function makeJpeg(width: number, height: number, label = '', shade = 128): Buffer {
  const seg = (marker: number, body: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(0xff00 | marker, 0);
    h.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([h, body]);
  };
  const sof = Buffer.alloc(9);
  sof.writeUInt8(8, 0);
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof.set([1, 1, 0x11, 0], 5);
  const dht = (cls: number, counts: number[], values: number[]) =>
    seg(0xc4, Buffer.from([cls, ...counts, ...values]));
  const dcCounts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
  const acCounts = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

  // Entropy-coded data.
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  const put = (code: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((code >> i) & 1);
      if (++nbits === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0);
        acc = 0;
        nbits = 0;
      }
    }
  };
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const dc = Math.max(-1023, Math.min(1023, (shade - 128) * 8));
  for (let b = 0; b < blocks; b++) {
    const diff = b === 0 ? dc : 0;
    const mag = Math.abs(diff);
    const cat = mag === 0 ? 0 : Math.floor(Math.log2(mag)) + 1;
    const [code, len] = DC_CODES[cat] as [number, number];
    put(code, len);
    if (cat > 0) put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
    put(0, 1); // EOB
  }
  if (nbits > 0) put((1 << (8 - nbits)) - 1, 8 - nbits);

  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    seg(0xfe, Buffer.from(label || 'metarr-fake', 'latin1')),
    seg(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)])),
    seg(0xc0, sof),
    dht(0x00, dcCounts, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    dht(0x10, acCounts, [0]),
    seg(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0])),
    Buffer.from(out),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** Image bytes for a path whose name carries `<w>x<h>` and ends .jpg or .png; the path is the label. */
export function imageForPath(path: string): Buffer | null {
  const m = /(\d{1,5})x(\d{1,5})\.(jpg|png)$/i.exec(path);
  if (!m) return null;
  const w = Number(m[1]);
  const h = Number(m[2]);
  return m[3]?.toLowerCase() === 'png' ? makePng(w, h, path) : makeJpeg(w, h, path, 40 + (path.length % 170));
}

export function sendImage(r: FakeRequest, cache: Map<string, Buffer>, path: string): void {
  let bytes = cache.get(path);
  if (!bytes) {
    const made = imageForPath(path);
    if (!made) {
      r.res.writeHead(404, { 'content-type': 'text/plain' });
      r.res.end('not found');
      return;
    }
    bytes = made;
    cache.set(path, bytes);
  }
  r.res.writeHead(200, {
    'content-type': path.endsWith('.png') ? 'image/png' : 'image/jpeg',
    'content-length': bytes.length,
  });
  r.res.end(bytes);
}
