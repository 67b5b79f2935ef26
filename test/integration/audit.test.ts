// Request limits and the audit log through HTTP, with the real kubectl: a create and a 403 recorded
// at the levels the policy sets (kube's Event fields, Audit-Id header), the 413 of a body over
// 3 MiB, the 429 of the max-in-flight filter, and a malformed policy failing the start.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Authorizer } from '../../src/apiserver/auth/authorizer.ts';
import type { AuditEvent } from '../../src/apiserver/audit/event.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const run = promisify(execFile);

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  nonResourceURLs: ["/api*", "/openapi/*", "/version"]
- level: Request
  verbs: [create]
  resources: [{group: "", resources: [configmaps]}]
  omitManagedFields: true
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
  omitStages: [RequestReceived]
- level: Metadata
  verbs: [list]
  resources: [{group: "", resources: [namespaces]}]
- level: RequestResponse
  resources: [{group: "", resources: [services]}]
  namespaces: [limits]
  omitStages: [RequestReceived]
`;

/** Holds every request of the user "slow" in authorization until released; refuses "mallory". */
let gate!: { release: () => void; done: Promise<void> };
const arrived: Array<() => void> = [];
function newGate(): void {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  gate = { release, done };
}
newGate();
const authorizer: Authorizer = {
  async authorize(a) {
    if (a.user.name === 'mallory') return { decision: 'deny', reason: 'mallory may not' };
    if (a.user.name === 'slow' && a.verb !== 'impersonate') {
      arrived.shift()?.();
      await gate.done;
    }
    return { decision: 'allow', reason: 'test authorizer allows' };
  },
};
const nextArrival = () => new Promise<void>((r) => arrived.push(r));

let dir: string;
let cp: ControlPlane;
let logPath: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-audit-'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  logPath = join(dir, 'log', 'audit.log');
  cp = await startControlPlane({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    authorizer,
    inFlight: { maxRequestsInFlight: 1, maxMutatingRequestsInFlight: 1 },
    audit: { policyFile: join(dir, 'policy.yaml'), logPath },
  });
  env = { ...process.env, KUBECONFIG: cp.kubeconfigPath };
});

after(async () => {
  gate.release();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

function events(): AuditEvent[] {
  return readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
}

interface Answer {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request as the admin (or, with Impersonate-User, as someone else). */
function call(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer | Buffer[] } = {}): Promise<Answer> {
  const o: RequestOptions = { host: '127.0.0.1', port: cp.port, path, method, ca: cp.pki.caCertPem, servername: 'localhost', headers: { Authorization: `Bearer ${cp.pki.adminToken}`, 'Content-Type': 'application/json', ...opts.headers } };
  return new Promise((resolve, reject) => {
    const req = request(o, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (Array.isArray(opts.body)) {
      // Streamed without a Content-Length: the limit is found while reading.
      const chunks = [...opts.body];
      const next = () => {
        const c = chunks.shift();
        if (!c) return req.end();
        if (req.write(c)) setImmediate(next);
        else req.once('drain', next);
      };
      req.on('error', () => {});
      next();
    } else req.end(opts.body);
  });
}

test('a create is recorded at level Request: two stages, the request object, no response object', async () => {
  const out = await run('/usr/bin/kubectl', ['create', 'configmap', 'settings', '--from-literal=color=blue', '-n', 'default'], { env });
  assert.equal(out.stdout, 'configmap/settings created\n');
  const mine = events().filter((e) => e.objectRef?.resource === 'configmaps' && e.verb === 'create');
  assert.deepEqual(mine.map((e) => e.stage), ['RequestReceived', 'ResponseComplete']);
  const [received, done] = mine as [AuditEvent, AuditEvent];
  assert.equal(received.auditID, done.auditID);
  assert.equal(done.level, 'Request');
  assert.equal(done.kind, 'Event');
  assert.equal(done.apiVersion, 'audit.k8s.io/v1');
  assert.equal(done.requestURI, '/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create&fieldValidation=Strict');
  assert.deepEqual(done.user, { username: 'admin', groups: ['system:masters', 'system:authenticated'] });
  assert.deepEqual(done.sourceIPs, ['127.0.0.1']);
  assert.match(done.userAgent ?? '', /^kubectl\//);
  assert.deepEqual(done.objectRef, { resource: 'configmaps', namespace: 'default', name: 'settings', apiVersion: 'v1' });
  assert.deepEqual(done.responseStatus, { metadata: {}, code: 201 });
  // The request as sent, not as stored.
  assert.deepEqual(done.requestObject, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'settings', namespace: 'default' }, data: { color: 'blue' } });
  assert.equal(done.responseObject, undefined);
  assert.deepEqual(done.annotations, { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'test authorizer allows' });
  assert.match(done.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(done.stageTimestamp >= done.requestReceivedTimestamp);
  // Reads of configmaps match no rule but the first's paths: nothing recorded.
  await run('/usr/bin/kubectl', ['get', 'configmap', 'settings'], { env });
  assert.equal(events().filter((e) => e.objectRef?.resource === 'configmaps' && e.verb === 'get').length, 0);
});

test('a 403 is recorded with the authorization decision, the impersonated user and the Status', async () => {
  const err = await run('/usr/bin/kubectl', ['get', 'secrets', '-n', 'default', '--as=mallory'], { env }).then(
    () => assert.fail('allowed'),
    (e: { stderr: string }) => e,
  );
  assert.match(err.stderr, /Error from server \(Forbidden\): secrets is forbidden: User "mallory" cannot list resource "secrets" in API group "" in the namespace "default": mallory may not/);
  const mine = events().filter((e) => e.objectRef?.resource === 'secrets');
  assert.equal(mine.length, 1, 'RequestReceived is omitted by the rule');
  const ev = mine[0]!;
  assert.equal(ev.level, 'Metadata');
  assert.equal(ev.stage, 'ResponseComplete');
  assert.equal(ev.verb, 'list');
  assert.equal(ev.user.username, 'admin');
  assert.deepEqual(ev.impersonatedUser, { username: 'mallory', groups: ['system:authenticated'] });
  assert.deepEqual(ev.responseStatus, {
    metadata: {},
    status: 'Failure',
    message: 'secrets is forbidden: User "mallory" cannot list resource "secrets" in API group "" in the namespace "default": mallory may not',
    reason: 'Forbidden',
    details: { kind: 'secrets' },
    code: 403,
  });
  assert.deepEqual(ev.annotations, { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': 'mallory may not' });
  assert.equal(ev.requestObject, undefined);
});

test('every answer carries an Audit-Id; a client\'s own Audit-ID is kept', async () => {
  const a = await call('GET', '/api/v1/namespaces/default/secrets');
  assert.equal(a.code, 200);
  assert.match(String(a.headers['audit-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(events().at(-1)!.auditID, a.headers['audit-id']);
  const b = await call('GET', '/version', { headers: { 'Audit-ID': 'my-own-id' } });
  assert.equal(b.headers['audit-id'], 'my-own-id');
  const c = await call('GET', '/api/v1/namespaces', { headers: { Authorization: 'Bearer wrong' } });
  assert.equal(c.code, 401);
  assert.ok(c.headers['audit-id']);
  // A failed authentication is recorded without a user, its only stage ResponseStarted (kube's WithFailedAuthenticationAudit).
  const failed = events().filter((e) => e.auditID === c.headers['audit-id']);
  assert.deepEqual(failed.map((e) => [e.stage, e.user, e.responseStatus]), [['ResponseStarted', {}, { metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }]]);
});

test('a body over 3 MiB is refused with 413, by its length or while it streams', async () => {
  const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: 'x'.repeat(3 * 1024 * 1024) } });
  const want = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Request entity too large: limit is 3145728', reason: 'RequestEntityTooLarge', code: 413 };
  const declared = await call('POST', '/api/v1/namespaces/default/configmaps', { body: big });
  assert.equal(declared.code, 413);
  assert.deepEqual(JSON.parse(declared.body), want);
  const streamed = await call('POST', '/api/v1/namespaces/default/configmaps', { body: Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 'x')) });
  assert.equal(streamed.code, 413);
  assert.deepEqual(JSON.parse(streamed.body), want);
  // kubectl prints it as it does for kube-apiserver.
  writeFileSync(join(dir, 'big.json'), big);
  const err = await run('/usr/bin/kubectl', ['create', '-f', join(dir, 'big.json')], { env, maxBuffer: 16 * 1024 * 1024 }).then(
    () => assert.fail('accepted'),
    (e: { stderr: string }) => e,
  );
  assert.match(err.stderr, /Request entity too large: limit is 3145728/);
});

test('over the in-flight limits: 429 with Retry-After: 1; system:masters, watches and the other kind still served', async () => {
  await run('/usr/bin/kubectl', ['create', 'namespace', 'limits'], { env });
  newGate();
  const as = { 'Impersonate-User': 'slow' };
  // One read-only request held in authorization fills the read-only limit of 1.
  const arrivedRead = nextArrival();
  const heldRead = call('GET', '/api/v1/namespaces/limits/services', { headers: as });
  await arrivedRead;
  const refused = await call('GET', '/api/v1/namespaces/limits/services', { headers: as });
  assert.equal(refused.code, 429);
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal(refused.body, 'Too many requests, please try again later.\n');
  // The super-user is answered beyond the limit.
  assert.equal((await call('GET', '/api/v1/namespaces/limits/services')).code, 200);
  // Mutating requests have their own limit: one is let in (and held) ...
  const arrivedWrite = nextArrival();
  const heldWrite = call('POST', '/api/v1/namespaces/limits/services', { headers: as, body: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'held' }, spec: { ports: [{ port: 80 }] } }) });
  await arrivedWrite;
  // ... the next is refused.
  const refusedWrite = await call('DELETE', '/api/v1/namespaces/limits/services/held', { headers: as });
  assert.equal(refusedWrite.code, 429);
  // A watch is long-running: not counted, so not refused (it reaches the held authorizer).
  const arrivedWatch = nextArrival();
  const watch = call('GET', '/api/v1/namespaces/limits/services?watch=true&timeoutSeconds=1', { headers: as });
  await arrivedWatch;
  gate.release();
  assert.equal((await heldRead).code, 200);
  assert.equal((await heldWrite).code, 201);
  assert.equal((await watch).code, 200);
  // Once they are done, the next ones are served.
  assert.equal((await call('GET', '/api/v1/namespaces/limits/services', { headers: as })).code, 200);
  // The refusals are audited with their code; a RequestResponse event carries the response.
  const mine = events().filter((e) => e.objectRef?.resource === 'services' && e.objectRef.namespace === 'limits');
  assert.deepEqual(mine.filter((e) => e.responseStatus?.code === 429).map((e) => e.verb).sort(), ['delete', 'list']);
  const created = mine.find((e) => e.verb === 'create')!;
  assert.equal(created.level, 'RequestResponse');
  assert.equal((created.responseObject as { metadata: { name: string } }).metadata.name, 'held');
  const watched = mine.filter((e) => e.verb === 'watch').map((e) => e.stage);
  assert.deepEqual(watched, ['ResponseStarted', 'ResponseComplete']);
});

test('a malformed policy fails the start with the file and the field', async () => {
  const bad = join(dir, 'bad-policy.yaml');
  writeFileSync(bad, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n');
  await assert.rejects(
    startControlPlane({ dataDir: join(dir, 'data2'), listen: '127.0.0.1:0', audit: { policyFile: bad, logPath: join(dir, 'x.log') } }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_AUDIT_POLICY');
      assert.equal(e.message, `loading audit policy file: rules[0].level: Unsupported value: "Loud": supported values: "None", "Metadata", "Request", "RequestResponse": from file ${bad}`);
      return true;
    },
  );
});
