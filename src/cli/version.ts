import type { Command } from './main.ts';
import { serverVersion } from '../apiserver/version.ts';

export const versionCommand: Command = {
  summary: 'print the version',
  options: {},
  async run() {
    console.log(`tinykube ${serverVersion.tinykube} (Kubernetes API ${serverVersion.gitVersion})`);
  },
};
