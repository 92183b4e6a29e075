/**
 * The strict proto3-JSON checker itself, on small Envoy messages: what it accepts and what it must report.
 * (The shipped bootstraps are checked in test/integration/deploy-envoy-config.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { UpstreamProtos, checkProtoJson, jsonNameOf } from './proto-json-check.js';
import { durationNanos } from './proto-json-scalars.js';

let protos: UpstreamProtos;
beforeAll(() => {
  protos = new UpstreamProtos();
  protos.load(['envoy/config/cluster/v3/cluster.proto']);
});

const CLUSTER = 'envoy.config.cluster.v3.Cluster';
const base = { name: 'c', connect_timeout: '1s' };

describe('checkProtoJson on envoy.config.cluster.v3.Cluster', () => {
  it.each([
    { name: 'a minimal cluster is valid', value: base },
    { name: 'lowerCamelCase names are proto3 JSON names too', value: { name: 'c', connectTimeout: '0.250s', lbPolicy: 'ROUND_ROBIN' } },
    { name: 'enums may be given by number', value: { ...base, type: 1 } },
    { name: 'uint32 wrappers take a plain number', value: { ...base, per_connection_buffer_limit_bytes: 32768 } },
    { name: '64-bit integers may be strings', value: { ...base, circuit_breakers: { thresholds: [{ max_requests: '100' }] } } },
    {
      name: 'an Any is walked with its resolved type',
      value: { ...base, typed_extension_protocol_options: { x: { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } } } },
    },
    { name: 'an Any of a well-known type carries "value"', value: { ...base, metadata: { typed_filter_metadata: { k: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '2s' } } } } },
    { name: 'a Struct takes any JSON object', value: { ...base, metadata: { filter_metadata: { k: { a: [1, { b: null }] } } } } },
  ])('$name', ({ value }) => {
    expect(checkProtoJson(protos, CLUSTER, value)).toEqual([]);
  });

  it.each([
    { name: 'an unknown field', value: { ...base, conect_timeout: '1s' }, path: 'conect_timeout', message: /unknown field/ },
    { name: 'one field under both its names', value: { ...base, connectTimeout: '2s' }, path: 'connectTimeout', message: /given twice/ },
    { name: 'two members of one oneof', value: { ...base, type: 'STATIC', cluster_type: { name: 'x' } }, path: '', message: /oneof "cluster_discovery_type"/ },
    { name: 'a Duration without unit', value: { ...base, connect_timeout: '1' }, path: 'connect_timeout', message: /not a Duration/ },
    { name: 'a Duration given as a number', value: { ...base, connect_timeout: 1 }, path: 'connect_timeout', message: /Duration is a string/ },
    { name: 'a zero Duration where PGV wants > 0', value: { ...base, connect_timeout: '0s' }, path: 'connect_timeout', message: /duration must be > 0ns/ },
    { name: 'an unknown enum name', value: { ...base, lb_policy: 'ROUND_ROBIN_' }, path: 'lb_policy', message: /not a value of enum/ },
    { name: 'an unknown enum number', value: { ...base, type: 42 }, path: 'type', message: /not a value of enum/ },
    { name: 'a deprecated field', value: { ...base, use_tcp_for_dns_lookups: true }, path: 'use_tcp_for_dns_lookups', message: /deprecated/ },
    { name: 'an integer out of range', value: { ...base, per_connection_buffer_limit_bytes: 2 ** 32 }, path: 'per_connection_buffer_limit_bytes', message: /out of range/ },
    { name: 'a fraction where an integer is expected', value: { ...base, per_connection_buffer_limit_bytes: 1.5 }, path: 'per_connection_buffer_limit_bytes', message: /expected an integer/ },
    { name: 'a list where an object is expected', value: { ...base, load_assignment: [] }, path: 'load_assignment', message: /expected an object/ },
    { name: 'an object where a list is expected', value: { ...base, health_checks: {} }, path: 'health_checks', message: /expected a list/ },
    { name: 'a null (an empty YAML key)', value: { ...base, load_assignment: null }, path: 'load_assignment', message: /null/ },
    { name: 'a missing required field', value: { connect_timeout: '1s' }, path: 'name', message: /min_len/ },
    { name: 'a missing required message in a list item', value: { ...base, health_checks: [{ interval: '1s', grpc_health_check: {} }] }, path: 'health_checks[0].timeout', message: /required/ },
    { name: 'an Any without @type', value: { ...base, typed_extension_protocol_options: { x: { a: 1 } } }, path: 'typed_extension_protocol_options.x', message: /without "@type"/ },
    { name: 'an Any with a foreign URL prefix', value: { ...base, typed_extension_protocol_options: { x: { '@type': 'example.com/envoy.config.cluster.v3.Cluster' } } }, path: 'typed_extension_protocol_options.x.@type', message: /must start with/ },
    { name: 'an Any of an unknown type', value: { ...base, typed_extension_protocol_options: { x: { '@type': 'type.googleapis.com/envoy.nope.v3.Nope' } } }, path: 'typed_extension_protocol_options.x.@type', message: /unknown type envoy\.nope\.v3\.Nope/ },
    {
      name: 'an unknown field inside an Any',
      value: { ...base, typed_extension_protocol_options: { x: { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit: {} } } },
      path: 'typed_extension_protocol_options.x.explicit',
      message: /unknown field/,
    },
  ])('reports $name', ({ value, path, message }) => {
    const issues = checkProtoJson(protos, CLUSTER, value);
    expect(issues.some((i) => i.path === path && message.test(i.message)), JSON.stringify(issues)).toBe(true);
  });

  it('reports an unknown top-level type', () => {
    expect(checkProtoJson(protos, 'envoy.config.cluster.v3.Clusterr', {})).toEqual([{ path: '', message: 'unknown message type envoy.config.cluster.v3.Clusterr' }]);
  });
});

describe('helpers', () => {
  it.each([
    ['connect_timeout', 'connectTimeout'],
    ['http2_protocol_options', 'http2ProtocolOptions'],
    ['name', 'name'],
  ])('jsonNameOf(%s) = %s', (proto, json) => {
    expect(jsonNameOf(proto)).toBe(json);
  });

  it.each([
    { text: '0.25s', nanos: 250_000_000n },
    { text: '1s', nanos: 1_000_000_000n },
    { text: '-1.000000001s', nanos: -1_000_000_001n },
    { text: '1.0000000001s', nanos: undefined },
    { text: '1ms', nanos: undefined },
    { text: '315576000001s', nanos: undefined },
  ])('durationNanos($text)', ({ text, nanos }) => {
    expect(durationNanos(text)).toBe(nanos);
  });
});
