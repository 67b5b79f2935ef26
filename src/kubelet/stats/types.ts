// The kubelet's Summary API shape (k8s.io/kubelet/pkg/apis/stats/v1alpha1), as `GET /stats/summary`
// serves it and as metrics-server and `kubectl get --raw /api/v1/nodes/<node>/proxy/stats/summary`
// read it. Field names and nesting are the wire facts; times are RFC 3339.

export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

export interface PVCReference {
  name: string;
  namespace: string;
}

/** FsStats inline, then the volume's name and, for claims, the claim. */
export interface VolumeStats extends FsStats {
  name: string;
  pvcRef?: PVCReference;
}

export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
}

export interface ContainerStats {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  rootfs?: FsStats;
  logs?: FsStats;
}

export interface PodReference {
  name: string;
  namespace: string;
  uid: string;
}

export interface PodStats {
  podRef: PodReference;
  startTime: string;
  containers: ContainerStats[];
  cpu?: CPUStats;
  memory?: MemoryStats;
  volume?: VolumeStats[];
  'ephemeral-storage'?: FsStats;
}

export interface RuntimeStats {
  imageFs?: FsStats;
  containerFs?: FsStats;
}

export interface NodeStats {
  nodeName: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  fs?: FsStats;
  runtime?: RuntimeStats;
}

export interface Summary {
  node: NodeStats;
  pods: PodStats[];
}
