import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Secret } from '../../api/types.ts';
import { decideNodePassword, hashNodePassword, K3S_REJECTED_MESSAGE, nodeOfPasswordSecret, nodePasswordSecret, storedHash, verifyNodePassword, type NodePasswordDecision } from './nodepassword.ts';

test('hash and verify: the same password matches, another does not, a malformed or costly hash never does', async () => {
  const hash = await hashNodePassword('s3cret');
  assert.match(hash, /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(await hashNodePassword('s3cret'), hash, 'a fresh salt each time');
  const salt = Buffer.alloc(16, 7);
  assert.equal(await hashNodePassword('s3cret', salt), await hashNodePassword('s3cret', salt));
  const cases: Array<[string, string, boolean]> = [
    ['s3cret', hash, true],
    ['s3cret ', hash, false],
    ['', hash, false],
    ['other', hash, false],
    ['s3cret', hash.replace('ln=14', 'ln=30'), false],
    ['s3cret', hash.replace('ln=14', 'ln=13'), false],
    ['s3cret', hash.replace('$scrypt$', '$bcrypt$'), false],
    ['s3cret', '', false],
    ['s3cret', hash.slice(0, -20), false],
  ];
  for (const [password, encoded, want] of cases) assert.equal(await verifyNodePassword(password, encoded), want, `${JSON.stringify(password)} against ${encoded}`);
});

test('a password of the form agents make (32 hex digits, 128 random bits) is hashed at the least cost verify accepts; others at the full cost', async () => {
  const made = '0123456789abcdef0123456789abcdef';
  const hash = await hashNodePassword(made);
  assert.match(hash, /^\$scrypt\$ln=10,r=8,p=1\$/);
  assert.equal(await verifyNodePassword(made, hash), true);
  assert.equal(await verifyNodePassword(made.replace('0', '1'), hash), false);
  assert.equal(await verifyNodePassword(made, hash.replace('ln=10', 'ln=9')), false, 'below the least cost is never accepted');
  for (const chosen of [made.toUpperCase(), made.slice(1), `${made}0`, 'correct horse battery staple']) {
    assert.match(await hashNodePassword(chosen), /^\$scrypt\$ln=14,/, chosen);
  }
});

test('the Secret: named and typed as the approver looks for it, owned by its Node when there is one', async () => {
  const s = nodePasswordSecret('n1', 'H', { metadata: { name: 'n1', uid: 'u1' } });
  assert.equal(s.metadata?.name, 'n1.node-password.tinykube');
  assert.equal(s.metadata?.namespace, 'kube-system');
  assert.equal(s.type, 'tinykube.io/node-password');
  assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u1' }]);
  assert.equal(storedHash(s), 'H');
  assert.equal(nodePasswordSecret('n1', 'H', undefined).metadata?.ownerReferences, undefined);
  assert.equal(nodeOfPasswordSecret('a.b.node-password.tinykube'), 'a.b');
  assert.equal(nodeOfPasswordSecret('.node-password.tinykube'), undefined);
  assert.equal(nodeOfPasswordSecret('n1.node-password.k3s'), undefined);
});

test('the decision: first join records, same password joins, another is refused, a Node gone frees the name', async () => {
  const hash = await hashNodePassword('pw-a');
  const node: Node = { metadata: { name: 'n1', uid: 'u1' } };
  const unowned: Secret = nodePasswordSecret('n1', hash, undefined);
  const owned: Secret = nodePasswordSecret('n1', hash, node);
  const ownedByOld: Secret = nodePasswordSecret('n1', hash, { metadata: { name: 'n1', uid: 'u0' } });
  const garbled: Secret = { ...unowned, data: {} };
  const cases: Array<{ what: string; password: string | undefined; secret?: Secret; node?: Node; want: NodePasswordDecision }> = [
    { what: 'first join, no Node yet', password: 'pw-a', want: { accept: true, store: 'create' } },
    { what: 'first join while a Node exists (made before passwords)', password: 'pw-b', node, want: { accept: true, store: 'create' } },
    { what: 'a restart with the same data dir, before the Node', password: 'pw-a', secret: unowned, want: { accept: true, store: 'keep' } },
    { what: 'a restart with the same data dir, Node linked', password: 'pw-a', secret: owned, node, want: { accept: true, store: 'keep' } },
    { what: 'a second machine, Node linked', password: 'pw-b', secret: owned, node, want: { accept: false, message: K3S_REJECTED_MESSAGE } },
    { what: 'a second machine, before the first registered its Node', password: 'pw-b', secret: unowned, want: { accept: false, message: K3S_REJECTED_MESSAGE } },
    { what: 'a second machine while the Node was made again (not yet relinked)', password: 'pw-b', secret: ownedByOld, node, want: { accept: false, message: K3S_REJECTED_MESSAGE } },
    { what: 'after kubectl delete node: the owned Secret is stale', password: 'pw-b', secret: owned, want: { accept: true, store: 'replace' } },
    { what: 'a Secret without a hash refuses rather than lets in', password: 'pw-a', secret: garbled, node, want: { accept: false, message: K3S_REJECTED_MESSAGE } },
  ];
  for (const c of cases) assert.deepEqual(await decideNodePassword({ nodeName: 'n1', password: c.password, secret: c.secret, node: c.node }), c.want, c.what);
  const long = await decideNodePassword({ nodeName: 'a'.repeat(231), password: 'pw', secret: undefined, node: undefined });
  assert.equal(long.accept ? '' : long.message, `node name "${'a'.repeat(231)}" is longer than 230 characters, too long for its node password Secret`);
  assert.deepEqual(await decideNodePassword({ nodeName: 'a'.repeat(230), password: 'pw', secret: undefined, node: undefined }), { accept: true, store: 'create' });
  for (const password of [undefined, '']) {
    const d = await decideNodePassword({ nodeName: 'n1', password, secret: undefined, node: undefined });
    assert.equal(d.accept, false, 'a request without a password never joins');
    assert.match(d.accept ? '' : d.message, /node "n1" carries no node password/);
  }
});
