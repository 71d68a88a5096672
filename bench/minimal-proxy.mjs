// "What Node.js itself allows": the smallest honest reverse proxy on node:http and undici.
// Every request goes to one upstream over a keep-alive pool; bodies are streamed both ways,
// hop-by-hop headers (RFC 9110 §7.6.1) are dropped, upstream failures become a 502.
//
//   PORT=9002 UPSTREAM=http://127.0.0.1:9001 node bench/minimal-proxy.mjs
import http from 'node:http';
import process from 'node:process';
import console from 'node:console';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function forwardable(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

const upstream = new Pool(process.env.UPSTREAM, { connections: 64, keepAliveTimeout: 60_000 });

const server = http.createServer(async (req, res) => {
  try {
    const { statusCode, headers, body } = await upstream.request({
      method: req.method,
      path: req.url,
      headers: forwardable(req.headers),
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    });
    res.writeHead(statusCode, forwardable(headers));
    await pipeline(body, res);
  } catch (error) {
    if (res.headersSent) return res.destroy(error);
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `upstream failed: ${error.message}` } }));
  }
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => upstream.close().finally(() => process.exit(0)));
