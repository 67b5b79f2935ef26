// The configuration of a private containerd (1.6, config version 2) that lives entirely under one
// data dir: its own root, state, sockets, runc state, CNI config dir and registry hosts dir, so any
// number of agents on one machine never collide. Only the shim socket dir (/run/containerd/s) is
// shared, and there each shim's socket name hashes our own grpc address, so it cannot collide either.
// Pure: called by the launcher (./launcher.ts) and by tests that inspect the rendered file.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PAUSE_IMAGE } from '../images/builtin.ts';

export interface ContainerdLayout {
  dataDir: string;
  configFile: string;
  logFile: string;
  pidFile: string;
  root: string;
  state: string;
  temp: string;
  /** The gRPC (CRI + containerd API) socket. */
  socket: string;
  ttrpcSocket: string;
  /** runc's own state (`runc --root`); runc's default is shared by every containerd on the machine. */
  runcRoot: string;
  /** Where the network layer writes its CNI conflist; containerd picks the first file. */
  cniConfDir: string;
  /** host-local IPAM state, for CNI configs written by tinykube (containerd does not read it). */
  cniIpamDir: string;
  /** hosts.toml mirrors and credentials per registry (`<dir>/<host>/hosts.toml`), filled from registries.yaml. */
  registryConfigDir: string;
  /** Where built-in image archives are cached. */
  imageCacheDir: string;
}

/** A sun_path holds 108 bytes including the NUL. */
const MAX_SOCKET_PATH = 107;

/**
 * Every path of an instance. A data dir so deep that the socket path would not fit in sun_path gets
 * its sockets under /run/tinykube/<hash of the data dir>/ instead.
 */
export function containerdLayout(dataDir: string): ContainerdLayout {
  let sockDir = dataDir;
  if (Buffer.byteLength(join(dataDir, 'containerd.sock.ttrpc')) > MAX_SOCKET_PATH) {
    sockDir = join('/run/tinykube', createHash('sha256').update(dataDir).digest('hex').slice(0, 16));
  }
  return {
    dataDir,
    configFile: join(dataDir, 'containerd.toml'),
    logFile: join(dataDir, 'containerd.log'),
    pidFile: join(dataDir, 'containerd.pid'),
    root: join(dataDir, 'root'),
    state: join(dataDir, 'state'),
    temp: join(dataDir, 'tmp'),
    socket: join(sockDir, 'containerd.sock'),
    ttrpcSocket: join(sockDir, 'containerd.sock.ttrpc'),
    runcRoot: join(dataDir, 'state', 'runc'),
    cniConfDir: join(dataDir, 'cni', 'net.d'),
    cniIpamDir: join(dataDir, 'cni', 'ipam'),
    registryConfigDir: join(dataDir, 'certs.d'),
    imageCacheDir: join(dataDir, 'images'),
  };
}

/**
 * The cgroup driver our containerd and the agent's pod cgroups use. These machines run no systemd as
 * PID 1 (cgroup v1 hybrid, cgroupfs), so systemd cgroups are not an option; cgroupfs works anywhere.
 */
export const CGROUP_DRIVER = 'cgroupfs';

export interface ContainerdConfigOptions {
  layout: ContainerdLayout;
  /** Must name an image already imported into the k8s.io namespace (see ../images/import.ts). */
  sandboxImage?: string;
  cniBinDir?: string;
  snapshotter?: 'overlayfs' | 'native';
  /** containerd's log level: "info" (default), "debug", "warn". */
  logLevel?: string;
  /** 127.0.0.1 by default: only the agent on this machine talks to the streaming server. */
  streamServerAddress?: string;
}

// Snapshotters we never use and tracing: skipping them saves start-up work and log noise.
// runtime.v1.linux cannot be disabled in 1.6: the tasks service refuses to load without it.
const DISABLED_PLUGINS = [
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
];

/** A TOML basic string (JSON's escapes are a subset TOML accepts). */
function q(s: string): string {
  return JSON.stringify(s);
}

export function renderContainerdConfig(opts: ContainerdConfigOptions): string {
  const l = opts.layout;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by tinykube for a private containerd; regenerated at every start.
version = 2
root = ${q(l.root)}
state = ${q(l.state)}
temp = ${q(l.temp)}
disabled_plugins = [${DISABLED_PLUGINS.map(q).join(', ')}]

[grpc]
  address = ${q(l.socket)}

[ttrpc]
  address = ${q(l.ttrpcSocket)}

[debug]
  level = ${q(opts.logLevel ?? 'info')}

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(join(l.dataDir, 'opt'))}

[${cri}]
  sandbox_image = ${q(opts.sandboxImage ?? PAUSE_IMAGE)}
  # Without CAP_SYS_RESOURCE, lowering a child's oom_score_adj fails and every sandbox dies with
  # "can't get final child's PID from pipe": clamp instead (design.md, measured here).
  restrict_oom_score_adj = true
  stream_server_address = ${q(opts.streamServerAddress ?? '127.0.0.1')}
  # A random free port; the streaming URLs containerd returns carry it.
  stream_server_port = "0"
  enable_tls_streaming = false
  # Network namespaces under our state dir, not the machine-wide /var/run/netns.
  netns_mounts_under_state_dir = true
  # Kubernetes >= 1.22 behaviour (and containerd 2.0's default): non-root pods may bind ports < 1024 and ping.
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  disable_tcp_service = true
  max_container_log_line_size = 16384

  [${cri}.cni]
    bin_dir = ${q(opts.cniBinDir ?? '/usr/lib/cni')}
    conf_dir = ${q(l.cniConfDir)}
    max_conf_num = 1

  [${cri}.containerd]
    snapshotter = ${q(opts.snapshotter ?? 'overlayfs')}
    default_runtime_name = "runc"

    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(l.runcRoot)}

  [${cri}.registry]
    # hosts.toml per registry host; a registries.yaml translator fills it. Empty means plain HTTPS pulls.
    config_path = ${q(l.registryConfigDir)}
`;
}
