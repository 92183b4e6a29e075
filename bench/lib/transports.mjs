// How the load generator talks to a server. Both speak the same gRPC wire protocol to the same server:
//  - 'http2' (default): gRPC framed by hand over node:http2 (5-byte length prefix, grpc-status trailer). About twice
//    as cheap per call as grpc-js on the client side, so on a 2-core machine the null server, not the generator, is
//    the limit (the point of a baseline).
//  - 'grpc-js': @grpc/grpc-js channels, what a Node client would use.
import http2 from 'node:http2';
import { grpc } from './proto.mjs';

/** Error codes by name (grpc.status), for counting failures. */
function errorOf(code, fallbackName) {
  return { code, name: grpc.status[code] ?? fallbackName ?? String(code) };
}

/** grpc-timeout header value (gRPC over HTTP/2 spec: at most 8 digits and a unit). */
function grpcTimeout(ms) {
  return `${Math.max(1, Math.round(ms))}m`;
}

function http2Connection(address) {
  let session;
  const open = () => {
    session = http2.connect(`http://${address}`);
    session.on('error', () => {});
    session.on('close', () => {
      session = undefined;
    });
    return session;
  };
  return {
    /** One unary call with a length-prefixed message `frame`: `done(err, responseObject)`. */
    call(method, frame, deadlineMs, done) {
      const s = session ?? open();
      let status;
      let finished = false;
      const chunks = [];
      const finish = (err, response) => {
        if (finished) return;
        finished = true;
        done(err, response);
      };
      let req;
      try {
        req = s.request({
          ':method': 'POST',
          ':path': method.path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': grpcTimeout(deadlineMs),
        });
      } catch (err) {
        finish(errorOf(14, 'UNAVAILABLE'));
        return;
      }
      req.setTimeout(deadlineMs + 1000, () => req.close(http2.constants.NGHTTP2_CANCEL));
      req.on('response', (headers) => {
        // Trailers-only responses carry grpc-status in the headers.
        if (headers['grpc-status'] !== undefined) status = Number(headers['grpc-status']);
      });
      req.on('trailers', (trailers) => {
        if (trailers['grpc-status'] !== undefined) status = Number(trailers['grpc-status']);
      });
      req.on('data', (c) => chunks.push(c));
      req.on('error', () => finish(errorOf(14, 'UNAVAILABLE')));
      req.on('close', () => {
        if (status === undefined) return finish(errorOf(req.rstCode === http2.constants.NGHTTP2_CANCEL ? 4 : 14));
        if (status !== 0) return finish(errorOf(status));
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (body.length < 5) return finish(errorOf(13, 'INTERNAL'));
        const length = body.readUInt32BE(1);
        try {
          finish(null, method.responseDeserialize(body.subarray(5, 5 + length)));
        } catch {
          finish(errorOf(13, 'INTERNAL'));
        }
      });
      req.end(frame);
    },
  };
}

function grpcJsConnection(address) {
  // A local subchannel pool per client: without it grpc-js shares one connection between all of them.
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  return {
    call(method, frame, deadlineMs, done) {
      // grpc-js frames the message itself.
      client.makeUnaryRequest(method.path, (b) => b, method.responseDeserialize, frame.subarray(5), { deadline: Date.now() + deadlineMs }, (err, response) =>
        err ? done(errorOf(err.code)) : done(null, response),
      );
    },
  };
}

/** `channels` independent HTTP/2 connections to `address`. */
export function connect(kind, address, channels) {
  const make = kind === 'grpc-js' ? grpcJsConnection : http2Connection;
  if (kind !== 'grpc-js' && kind !== 'http2') throw new Error(`BENCH_CLIENT must be http2 or grpc-js, got ${kind}`);
  return Array.from({ length: channels }, () => make(address));
}
