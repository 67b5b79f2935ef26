import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PAUSE_IMAGE } from '../images/builtin.ts';
import { containerdLayout, renderContainerdConfig } from './config.ts';

describe('containerd config', () => {
  it('keeps every path of an instance under its data dir', () => {
    const l = containerdLayout('/data/agent1');
    for (const p of [l.root, l.state, l.temp, l.socket, l.ttrpcSocket, l.runcRoot, l.cniConfDir, l.cniIpamDir, l.registryConfigDir, l.configFile, l.logFile]) {
      assert.ok(p.startsWith('/data/agent1/'), p);
    }
  });

  it('moves sockets out of data dirs too deep for a unix socket path', () => {
    const deep = '/tmp/' + 'x'.repeat(100);
    const a = containerdLayout(deep);
    const b = containerdLayout(deep + 'y');
    assert.match(a.socket, /^\/run\/tinykube\/[0-9a-f]{16}\/containerd\.sock$/);
    assert.notEqual(a.socket, b.socket);
    assert.ok(a.root.startsWith(deep));
  });

  it('is a config containerd 1.6 reads back with our settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-ctdcfg-'));
    try {
      const layout = containerdLayout(dir);
      writeFileSync(layout.configFile, renderContainerdConfig({ layout }));
      // `config dump` parses the file and prints the merged result without starting anything.
      const dump = execFileSync('containerd', ['--config', layout.configFile, 'config', 'dump'], { encoding: 'utf8' });
      const expect: [string, string][] = [
        ['root', JSON.stringify(layout.root)],
        ['state', JSON.stringify(layout.state)],
        ['address', JSON.stringify(layout.socket)],
        ['sandbox_image', JSON.stringify(PAUSE_IMAGE)],
        ['restrict_oom_score_adj', 'true'],
        ['stream_server_address', '"127.0.0.1"'],
        ['stream_server_port', '"0"'],
        ['netns_mounts_under_state_dir', 'true'],
        ['bin_dir', '"/usr/lib/cni"'],
        ['conf_dir', JSON.stringify(layout.cniConfDir)],
        ['runtime_type', '"io.containerd.runc.v2"'],
        ['SystemdCgroup', 'false'],
        ['Root', JSON.stringify(layout.runcRoot)],
        ['config_path', JSON.stringify(layout.registryConfigDir)],
      ];
      for (const [k, v] of expect) assert.match(dump, new RegExp(`^\\s*${k} = ${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), `${k} = ${v}`);
      assert.match(dump, /disabled_plugins = \[.*"io\.containerd\.snapshotter\.v1\.btrfs".*\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
