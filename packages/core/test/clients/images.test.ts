import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeJpeg, makePng, startFakeFanart } from '@metarr/testkit';
import t from 'tap';
import { downloadImage, sniffImage } from '../../src/clients/images.ts';

t.test('sniffImage reads type and size from the bytes', async (t) => {
  t.same(sniffImage(makePng(800, 310, 'x')), { type: 'png', width: 800, height: 310 });
  t.same(sniffImage(makeJpeg(1000, 1500, 'x')), { type: 'jpeg', width: 1000, height: 1500 });
  t.equal(sniffImage(Buffer.from('GIF89a......................')), null);
  t.equal(sniffImage(Buffer.from('<html>not an image</html>')), null);
});

t.test('downloads only from allowed hosts, without redirects, within byte and pixel caps', async (t) => {
  const fanart = await startFakeFanart();
  t.teardown(() => fanart.close());
  const host = new URL(fanart.url).host;
  const policy = { allowedHosts: [host], maxBytes: 1_000_000, maxPixels: 5_000_000 };
  const good = await downloadImage(`${fanart.url}/fanart/movies/1/hdmovielogo/a-800x310.png`, policy);
  t.match(good, { type: 'png', width: 800, height: 310 });

  const foreign = await downloadImage('http://127.0.0.2:9/x-800x310.png', policy).catch((e) => e);
  t.match(foreign, { code: 'IMAGE_HOST_NOT_ALLOWED', retryable: false });

  const tooManyPixels = await downloadImage(
    `${fanart.url}/fanart/movies/1/moviebackground/b-4000x3000.jpg`,
    policy,
  ).catch((e) => e);
  t.match(tooManyPixels, { code: 'IMAGE_TOO_LARGE', retryable: false });

  const tooBig = await downloadImage(`${fanart.url}/fanart/movies/1/hdmovielogo/c-800x310.png`, {
    ...policy,
    maxBytes: 100,
  }).catch((e) => e);
  t.match(tooBig, { code: 'IMAGE_TOO_LARGE' });

  fanart.setMode('redirect');
  const redirected = await downloadImage(
    `${fanart.url}/fanart/movies/1/hdmovielogo/a-800x310.png`,
    policy,
  ).catch((e) => e);
  t.match(redirected, { code: 'IMAGE_REDIRECT', retryable: false });
  fanart.setMode('500');
  const down = await downloadImage(`${fanart.url}/fanart/movies/1/hdmovielogo/a-800x310.png`, policy).catch(
    (e) => e,
  );
  t.match(down, { code: 'IMAGE_HTTP_ERROR', retryable: true });
});

t.test('the type comes from magic bytes, not the name or Content-Type', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.end('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const e = await downloadImage(`http://127.0.0.1:${port}/poster.jpg`, {
    allowedHosts: [`127.0.0.1:${port}`],
    maxBytes: 1000,
    maxPixels: 1000,
  }).catch((err) => err);
  t.match(e, { code: 'IMAGE_BAD_TYPE', retryable: false });
});
