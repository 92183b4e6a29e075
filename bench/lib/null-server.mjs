// The baseline: an ext_authz server that does nothing but answer OK. Same grpc-js, same protos, same process
// model as the service, so the ratio ours/null isolates the cost of our Check work.
// Run as a child (fork): sends { type: 'ready', port } over IPC once bound.
import { loadAuthorization, grpc } from './proto.mjs';

const host = process.env.BENCH_HOST ?? '127.0.0.1';
const { service } = loadAuthorization();
const server = new grpc.Server({ 'grpc.keepalive_permit_without_calls': 1 });
const OK = Object.freeze({ status: { code: 0 } });
server.addService(service, {
  Check(_call, callback) {
    callback(null, OK);
  },
});
server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(`null server: bind failed: ${err.message}`);
    process.exit(1);
  }
  process.send?.({ type: 'ready', port });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
