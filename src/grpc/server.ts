import {
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { createAuthorizationService, type AuthorizationServiceOptions, type CheckHandler, type ErrorStatus } from './authorization-service.js';
import { loadProtos } from './load-protos.js';

export interface GrpcServerOptions {
  /** Address to bind (`0.0.0.0`, `::`, `127.0.0.1`). */
  readonly host: string;
  /** Port to bind; 0 picks a free one (see the returned `port`). */
  readonly port: number;
  readonly handler: CheckHandler;
  readonly logger: Logger;
  /** Status for internal errors and timeouts (default 403). */
  readonly statusOnError?: ErrorStatus;
  /** Upper bound for one decision (default 5000 ms). */
  readonly maxDecisionMs?: number;
  readonly onDecision?: NonNullable<AuthorizationServiceOptions['onDecision']>;
  /** true when the service can decide (a policy snapshot is active, keys were attempted). */
  readonly readiness: () => boolean;
}

export interface GrpcServer {
  /** The bound port. */
  readonly port: number;
  /** false ⇒ health answers NOT_SERVING whatever readiness says (draining). Watchers are told. */
  setServing(serving: boolean): void;
  /** Stops serving: NOT_SERVING, refuse new calls, let in-flight ones finish, force-close after `graceMs`. */
  shutdown(graceMs: number): Promise<void>;
}

/** Services the health protocol knows: the whole server and the one we implement. */
export const HEALTH_SERVICES: readonly string[] = Object.freeze(['', 'envoy.service.auth.v3.Authorization']);

type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** security.md §3.8 server settings. */
export const GRPC_SERVER_OPTIONS = Object.freeze({
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.max_send_message_length': 1024 * 1024,
  // Accept Envoy's HTTP/2 keepalive pings even between calls: a GOAWAY too_many_pings becomes Envoy errors.
  'grpc.keepalive_permit_without_calls': 1,
});

/** Starts the ext_authz + health gRPC server and resolves once it is bound. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const { logger, readiness } = options;
  const protos = loadProtos();
  const server = new Server(GRPC_SERVER_OPTIONS);
  let serving = true;
  const watchers = new Set<{ readonly call: ServerWritableStream<unknown, unknown>; readonly service: string; last: HealthStatus }>();

  const statusOf = (service: string): HealthStatus => {
    if (!HEALTH_SERVICES.includes(service)) return 'SERVICE_UNKNOWN';
    let ready = false;
    try {
      ready = serving && readiness();
    } catch (err) {
      // A readiness probe that throws means "not ready", never a crashed health call.
      logger.error({ err: err instanceof Error ? err.message : typeof err }, 'readiness check failed');
    }
    return ready ? 'SERVING' : 'NOT_SERVING';
  };

  server.addService(protos.authorization, createAuthorizationService(options));
  server.addService(protos.health, {
    Check: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const service = serviceNameOf(call.request);
      const s = statusOf(service);
      // gRPC health-checking protocol: an unknown service fails Check with NOT_FOUND.
      if (s === 'SERVICE_UNKNOWN') callback({ code: status.NOT_FOUND, details: 'unknown service' });
      else callback(null, { status: s });
    },
    Watch: (call: ServerWritableStream<unknown, unknown>) => {
      const watcher = { call, service: serviceNameOf(call.request), last: statusOf(serviceNameOf(call.request)) };
      watchers.add(watcher);
      call.write({ status: watcher.last });
      const drop = (): void => void watchers.delete(watcher);
      call.on('cancelled', drop);
      call.on('error', drop);
      call.on('close', drop);
    },
  });

  const address = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err === null ? resolve(bound) : reject(err)));
  });
  logger.info({ address: options.host, port }, 'grpc server listening');

  const notify = (): void => {
    for (const w of watchers) {
      const s = statusOf(w.service);
      if (s !== w.last) {
        w.last = s;
        w.call.write({ status: s });
      }
    }
  };

  let stopping: Promise<void> | undefined;
  return {
    port,
    setServing(value: boolean): void {
      serving = value;
      notify();
    },
    shutdown(graceMs: number): Promise<void> {
      stopping ??= new Promise<void>((resolve) => {
        serving = false;
        notify();
        // Watch streams never end on their own; tryShutdown would wait for them until the grace period is over.
        for (const w of watchers) w.call.end();
        watchers.clear();
        const force = setTimeout(() => {
          logger.warn({ graceMs }, 'grpc shutdown grace period over, closing calls');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return stopping;
    },
  };
}

function serviceNameOf(request: unknown): string {
  const service = typeof request === 'object' && request !== null ? (request as { service?: unknown }).service : undefined;
  return typeof service === 'string' ? service : '';
}
