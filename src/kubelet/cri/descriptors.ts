// The node agent's gRPC protocols as generated descriptors: each .proto beside its client is turned
// into a TypeScript module holding protobufjs' JSON descriptor of it (field names in camelCase, as
// @grpc/proto-loader reads them with keepCase false), which GrpcMethods loads without parsing. Used by
// scripts/gen-grpc-descriptors.ts to write the modules and by descriptors.test.ts to check that they
// still match their .proto; nothing at run time imports this file.
import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GeneratedDescriptor {
  proto: string;
  /** The generated module. */
  module: string;
  exportName: string;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const DESCRIPTORS: readonly GeneratedDescriptor[] = [
  { proto: here('./api.proto'), module: here('./api.descriptor.ts'), exportName: 'CRI_API' },
  { proto: here('../images/content.proto'), module: here('../images/content.descriptor.ts'), exportName: 'CONTAINERD_CONTENT' },
  { proto: here('../prober/health.proto'), module: here('../prober/health.descriptor.ts'), exportName: 'GRPC_HEALTH' },
];

/** The text of `d.module`, generated from `d.proto`. */
export function renderDescriptorModule(d: GeneratedDescriptor): string {
  const root = new protobuf.Root().loadSync(d.proto, { keepCase: false });
  const repo = fileURLToPath(new URL('../../..', import.meta.url));
  return [
    `// Generated from ${basename(d.proto)} by scripts/gen-grpc-descriptors.ts (see ${relative(repo, here('./descriptors.ts'))}):`,
    `// do not edit; change the .proto and run the script. descriptors.test.ts fails when the two differ.`,
    '',
    `export const ${d.exportName} = ${JSON.stringify(root.toJSON(), null, 2)};`,
    '',
  ].join('\n');
}

/** The generated modules that differ from what their .proto gives now. */
export function staleDescriptors(): GeneratedDescriptor[] {
  return DESCRIPTORS.filter((d) => readFileSync(d.module, 'utf8') !== renderDescriptorModule(d));
}
