// Regenerates the node agent's gRPC descriptor modules (src/kubelet/cri/api.descriptor.ts and the
// others listed in src/kubelet/cri/descriptors.ts) from their .proto files, after a .proto changes:
//
//   node scripts/gen-grpc-descriptors.ts
import { writeFileSync } from 'node:fs';
import { DESCRIPTORS, renderDescriptorModule } from '../src/kubelet/cri/descriptors.ts';

for (const d of DESCRIPTORS) {
  writeFileSync(d.module, renderDescriptorModule(d));
  console.log(`wrote ${d.module}`);
}
